//! A headless Chromium for tests of the web portal, driven over WebDriver (chromedriver).
//!
//! [`Browser::start`] gives `Ok(None)` where Debian's `chromium` and `chromium-driver` are not
//! installed, so a test can skip. The browser reaches loopback only: every other address goes to
//! a proxy on `127.0.0.1:9`, where nothing listens (Chromium never proxies loopback itself).
//! Controls are found the way a user finds them: fields by the text of their `<label>`, buttons
//! by their visible text. [`Browser::accessibility_problems`] is a smoke check of the current
//! page (labels, headings, alternative texts, table headers, WCAG 2.x text contrast).

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, elements::Element, wd::TimeoutConfiguration};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Error, kit::free_local_addr};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The browser binary itself, without Debian's launcher script (which sources /etc/chromium.d).
const CHROMIUM_BINARY: &str = "/usr/lib/chromium/chromium";
/// How long starting the driver, loading a page or running a script may take.
const DEADLINE: Duration = Duration::from_secs(30);
/// The key of an element reference in WebDriver's JSON (W3C WebDriver, "web element identifier").
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A cookie as the browser stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserCookie {
    /// The cookie name.
    pub name: String,
    /// The cookie value.
    pub value: String,
    /// Whether scripts cannot read it (`HttpOnly`).
    pub http_only: bool,
    /// `Strict`, `Lax` or `None`, when set.
    pub same_site: Option<String>,
    /// Whether it is sent over HTTPS only (`Secure`).
    pub secure: bool,
}

/// A headless Chromium session; chromedriver and the browser are killed on drop.
pub struct Browser {
    client: Client,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("chromedriver_pid", &self.driver.child.id())
            .finish()
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `Ok(None)` when they are not installed.
    pub async fn start() -> Result<Option<Self>, Error> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "skipped: chromium/chromedriver not installed ({} missing; apt-get install chromium chromium-driver, or run scripts/test.sh)",
                missing.join(", ")
            );
            return Ok(None);
        }
        let profile = tempfile::tempdir()?;
        let driver = Driver::start(profile.path()).await?;
        let binary = if Path::new(CHROMIUM_BINARY).exists() {
            CHROMIUM_BINARY
        } else {
            CHROMIUM
        };
        let user_data_dir = profile.path().join("profile");
        let args = [
            "--headless=new",
            // Chromium's sandbox cannot start as root, which is how CI runs.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", user_data_dir.display()),
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-breakpad",
            "--metrics-recording-only",
            // Everything but loopback goes to a port where nothing listens. Chromium always
            // bypasses the proxy for localhost, 127.0.0.0/8 and [::1]; a `<-loopback>` bypass
            // rule would remove that and break the pages under test.
            "--proxy-server=127.0.0.1:9",
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": binary, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .map_err(|e| driver.error(format!("cannot open a session: {e}")))?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(DEADLINE),
                Some(DEADLINE),
                Some(Duration::ZERO),
            ))
            .await
            .map_err(failed("set the timeouts"))?;
        Ok(Some(Self {
            client,
            driver,
            _profile: profile,
        }))
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `url` and waits for it.
    pub async fn goto(&self, url: &str) -> Result<(), Error> {
        self.client
            .goto(url)
            .await
            .map_err(failed(&format!("load {url}")))
    }

    /// Types `value` into the input or textarea labelled `label` (or picks it in a select).
    pub async fn fill(&self, label: &str, value: &str) -> Result<(), Error> {
        let control = self.labelled(label).await?;
        let tag = control.tag_name().await.map_err(failed("read a tag"))?;
        if tag.eq_ignore_ascii_case("select") {
            return self.choose(&control, label, value).await;
        }
        control
            .clear()
            .await
            .map_err(failed(&format!("clear {label:?}")))?;
        control
            .send_keys(value)
            .await
            .map_err(failed(&format!("type into {label:?}")))
    }

    /// Picks the option showing `option_text` in the select labelled `label`.
    pub async fn select(&self, label: &str, option_text: &str) -> Result<(), Error> {
        let control = self.labelled(label).await?;
        self.choose(&control, label, option_text).await
    }

    /// Clicks the button showing `button_text` and waits for the next page to load.
    pub async fn press(&self, button_text: &str) -> Result<(), Error> {
        let button = self
            .element(FIND_BUTTON, button_text, &format!("button {button_text:?}"))
            .await?;
        self.client
            .execute("window.__guardrailsOldPage = true;", vec![])
            .await
            .map_err(failed("mark the page"))?;
        button
            .click()
            .await
            .map_err(failed(&format!("click {button_text:?}")))?;
        let start = Instant::now();
        loop {
            let state = self
                .client
                .execute(
                    "return window.__guardrailsOldPage ? 'old' : document.readyState;",
                    vec![],
                )
                .await;
            // NB: a script can fail while the old page is being replaced.
            if let Ok(Value::String(state)) = &state
                && state == "complete"
            {
                return Ok(());
            }
            if start.elapsed() > DEADLINE {
                return Err(browser_error(format!(
                    "no new page within {DEADLINE:?} after pressing {button_text:?} (last seen: {state:?})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The HTML of the current page, as the browser now has it.
    pub async fn source(&self) -> Result<String, Error> {
        self.client
            .source()
            .await
            .map_err(failed("read the source"))
    }

    /// The visible text of the page (`document.body.innerText`).
    pub async fn text(&self) -> Result<String, Error> {
        match self
            .script("return document.body ? document.body.innerText : '';")
            .await?
        {
            Value::String(text) => Ok(text),
            other => Err(browser_error(format!("innerText was {other}"))),
        }
    }

    /// The path of the current URL, e.g. `/ui/tasks`.
    pub async fn current_path(&self) -> Result<String, Error> {
        let url = self
            .client
            .current_url()
            .await
            .map_err(failed("read the URL"))?;
        Ok(url.path().to_string())
    }

    /// The cookies the browser holds for the current page.
    pub async fn cookies(&self) -> Result<Vec<BrowserCookie>, Error> {
        let cookies = self
            .client
            .get_all_cookies()
            .await
            .map_err(failed("read the cookies"))?;
        Ok(cookies
            .iter()
            .map(|c| BrowserCookie {
                name: c.name().to_string(),
                value: c.value().to_string(),
                http_only: c.http_only().unwrap_or(false),
                same_site: c.same_site().map(|s| s.to_string()),
                secure: c.secure().unwrap_or(false),
            })
            .collect())
    }

    /// Writes a PNG screenshot of the window to `path`.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(failed("take a screenshot"))?;
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Problems an accessibility smoke check finds on the current page, one sentence each.
    pub async fn accessibility_problems(&self) -> Result<Vec<String>, Error> {
        let found = self.script(ACCESSIBILITY_CHECK).await?;
        serde_json::from_value(found.clone())
            .map_err(|_| browser_error(format!("the accessibility check returned {found}")))
    }

    /// Ends the session and stops the browser.
    pub async fn close(self) -> Result<(), Error> {
        let Self {
            client,
            mut driver,
            _profile,
        } = self;
        let closed = client.close().await.map_err(failed("end the session"));
        driver.kill();
        closed
    }

    /// Runs `script` in the page and returns what it returns.
    async fn script(&self, script: &str) -> Result<Value, Error> {
        self.client
            .execute(script, vec![])
            .await
            .map_err(failed("run a script"))
    }

    /// The form control whose label reads `label`.
    async fn labelled(&self, label: &str) -> Result<Element, Error> {
        self.element(
            FIND_LABELLED,
            label,
            &format!("a control labelled {label:?}"),
        )
        .await
    }

    /// Clicks the option reading `text` of the select `control`.
    async fn choose(&self, control: &Element, label: &str, text: &str) -> Result<(), Error> {
        let control = serde_json::to_value(control).map_err(|e| browser_error(e.to_string()))?;
        let option = self
            .client
            .execute(FIND_OPTION, vec![control, json!(text)])
            .await
            .map_err(failed("find an option"))?;
        let option = self.as_element(option, &format!("option {text:?} of {label:?}"))?;
        option
            .click()
            .await
            .map_err(failed(&format!("pick {text:?} in {label:?}")))
    }

    /// Runs a `find` script with `text` and turns its answer into an element.
    async fn element(&self, find: &str, text: &str, what: &str) -> Result<Element, Error> {
        let found = self
            .client
            .execute(find, vec![json!(text)])
            .await
            .map_err(failed(&format!("find {what}")))?;
        self.as_element(found, what)
    }

    /// The element a script returned, or an error with what it said instead.
    fn as_element(&self, found: Value, what: &str) -> Result<Element, Error> {
        match found.get(ELEMENT_KEY).and_then(Value::as_str) {
            Some(id) => Ok(Element::from_element_id(
                self.client.clone(),
                id.to_string().into(),
            )),
            None => Err(browser_error(format!(
                "no {what} on the page: {}",
                found.as_str().unwrap_or("not found")
            ))),
        }
    }
}

/// chromedriver in a process group of its own, so that the browsers it starts die with it.
struct Driver {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free loopback port, logging into `dir`, and waits until it is ready.
    async fn start(dir: &Path) -> Result<Self, Error> {
        use std::os::unix::process::CommandExt;
        let port = free_local_addr()?.port();
        let log = dir.join("chromedriver.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .map_err(|e| Error::Binary {
                name: "chromedriver".into(),
                message: format!("cannot start {CHROMEDRIVER}: {e}"),
            })?;
        let mut driver = Self { child, port, log };
        let start = Instant::now();
        while !status_ready(port).await {
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(driver.error(format!("exited with {status}")));
            }
            if start.elapsed() > DEADLINE {
                return Err(driver.error(format!("/status not ready within {DEADLINE:?}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }

    /// An error about the driver, with its log.
    fn error(&self, message: String) -> Error {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Error::Binary {
            name: "chromedriver".into(),
            message: format!("{message}\n--- logs of chromedriver ---\n{log}"),
        }
    }

    /// Kills chromedriver and every browser process it started.
    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether chromedriver on `port` answers `/status` with `"ready": true`.
async fn status_ready(port: u16) -> bool {
    // NB: chromedriver answers `Connection: close` but keeps the connection open: read the
    // answer until it says whether it is ready, within a bound.
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let (mut answer, mut chunk) = (Vec::new(), [0; 4096]);
        loop {
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                return Some(false);
            }
            answer.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&answer).replace(' ', "");
            if text.contains("\"ready\":") {
                return Some(text.contains("\"ready\":true"));
            }
        }
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(true))
    )
}

fn browser_error(message: String) -> Error {
    Error::Binary {
        name: "chromium".into(),
        message,
    }
}

fn failed(what: &str) -> impl FnOnce(fantoccini::error::CmdError) -> Error {
    let what = what.to_string();
    move |e| browser_error(format!("cannot {what}: {e}"))
}

/// Finds the control whose `<label>` text is `arguments[0]` (whitespace collapsed).
const FIND_LABELLED: &str = r#"
const wanted = arguments[0].replace(/\s+/g, ' ').trim();
const labels = [...document.querySelectorAll('label')];
const label = labels.find(l => l.textContent.replace(/\s+/g, ' ').trim() === wanted);
if (!label) {
  return 'labels are: ' + labels.map(l => JSON.stringify(l.textContent.trim())).join(', ');
}
return label.control || 'the label is not associated with a control';
"#;

/// Finds the `<button>` (or submit input) whose visible text is `arguments[0]`.
const FIND_BUTTON: &str = r#"
const wanted = arguments[0].replace(/\s+/g, ' ').trim();
const buttons = [...document.querySelectorAll('button, input[type=submit], input[type=button]')];
const text = b => (b.tagName === 'INPUT' ? b.value : b.innerText).replace(/\s+/g, ' ').trim();
return buttons.find(b => text(b) === wanted)
  || 'buttons are: ' + buttons.map(b => JSON.stringify(text(b))).join(', ');
"#;

/// Finds the `<option>` of the select `arguments[0]` whose text is `arguments[1]`.
const FIND_OPTION: &str = r#"
const [select, wanted] = arguments;
if (select.tagName !== 'SELECT') { return 'the control is a ' + select.tagName.toLowerCase(); }
const options = [...select.options];
return options.find(o => o.text.replace(/\s+/g, ' ').trim() === wanted.trim())
  || 'options are: ' + options.map(o => JSON.stringify(o.text.trim())).join(', ');
"#;

/// The accessibility smoke check; returns an array of problems.
const ACCESSIBILITY_CHECK: &str = r#"
const problems = [];
const squash = s => (s || '').replace(/\s+/g, ' ').trim();
const excerpt = s => { s = squash(s); return s.length > 40 ? s.slice(0, 40) + '…' : s; };
const describe = el => {
  let d = '<' + el.tagName.toLowerCase();
  for (const a of ['id', 'name', 'type', 'href', 'src']) {
    if (el.hasAttribute(a)) d += ` ${a}="${excerpt(el.getAttribute(a))}"`;
  }
  return d + '>';
};
const byIds = ids => squash((ids || '').split(/\s+/)
  .map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' '));
const ariaName = el => squash(el.getAttribute('aria-label')) || byIds(el.getAttribute('aria-labelledby'));
const hidden = el => el.closest('[aria-hidden="true"]') !== null;

if (!squash(document.documentElement.getAttribute('lang'))) problems.push('<html> has no lang attribute');

for (const el of document.querySelectorAll('input, textarea, select')) {
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (['hidden', 'submit', 'reset', 'button', 'image'].includes(type)) continue;
  const labelled = [...(el.labels || [])].some(l => squash(l.textContent)) || ariaName(el);
  if (!labelled) problems.push(`form control ${describe(el)} has no label`);
}

const h1s = document.querySelectorAll('h1').length;
if (h1s !== 1) problems.push(`${h1s} <h1> elements on the page (expected exactly one)`);
let previous = null;
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
  const level = Number(h.tagName[1]);
  if (previous !== null && level > previous + 1) {
    problems.push(`heading <h${level}> "${excerpt(h.textContent)}" follows <h${previous}> (skips a level)`);
  }
  previous = level;
}

for (const img of document.querySelectorAll('img')) {
  if (!img.hasAttribute('alt')) problems.push(`image ${describe(img)} has no alt attribute`);
}
for (const svg of document.querySelectorAll('svg')) {
  if (svg.parentElement.closest('svg') || hidden(svg)) continue;
  const title = [...svg.children].find(c => c.tagName.toLowerCase() === 'title');
  const named = ariaName(svg) || (title && squash(title.textContent));
  if (svg.getAttribute('role') !== 'img' || !named) {
    problems.push(`image <svg> needs role="img" and an accessible name (aria-label or <title>)`);
  }
}
for (const table of document.querySelectorAll('table')) {
  if (!table.querySelector('th')) problems.push(`table ${describe(table)} has no <th> headers`);
}

const innerName = el => squash([
  el.innerText,
  ...[...el.querySelectorAll('img[alt]')].map(i => i.getAttribute('alt')),
  ...[...el.querySelectorAll('svg')].map(s => ariaName(s) || (s.querySelector('title') || {}).textContent),
].join(' '));
for (const el of document.querySelectorAll('button, a[href], input[type=submit], input[type=button], input[type=reset]')) {
  if (hidden(el)) continue;
  const name = ariaName(el) || (el.tagName === 'INPUT' ? squash(el.value) : innerName(el)) || squash(el.title);
  if (!name) problems.push(`${el.tagName === 'A' ? 'link' : 'button'} ${describe(el)} has no accessible text`);
}

const canvas = document.createElement('canvas');
canvas.width = canvas.height = 1;
const paint = canvas.getContext('2d', { willReadFrequently: true });
const rgba = css => {
  paint.clearRect(0, 0, 1, 1);
  paint.fillStyle = '#000';
  paint.fillStyle = css;
  paint.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = paint.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
};
const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3])).concat(1);
const background = el => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
};
const luminance = ([r, g, b]) => {
  const lin = c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};
for (const el of document.body ? document.body.querySelectorAll('*') : []) {
  if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION'].includes(el.tagName)) continue;
  const own = [...el.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join(' ');
  if (!squash(own)) continue;
  const style = getComputedStyle(el);
  if (style.visibility !== 'visible' || el.getClientRects().length === 0) continue;
  const back = background(el);
  const fore = over(rgba(style.color), back);
  const [light, dark] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
  const ratio = (light + 0.05) / (dark + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const needed = large ? 3 : 4.5;
  if (ratio < needed) {
    problems.push(`low contrast ${ratio.toFixed(2)}:1 (needs ${needed}:1) of <${el.tagName.toLowerCase()}> "${excerpt(own)}"`);
  }
}
return problems;
"#;
