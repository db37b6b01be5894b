//! Prints the Guardrails CRD manifests, or writes them into a directory with `--out DIR`.

use std::{env, fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            for (_, yaml) in guardrails_crds::manifests::manifests() {
                print!("---\n{yaml}");
            }
            ExitCode::SUCCESS
        }
        [flag, dir] if flag == "--out" => {
            for (file, yaml) in guardrails_crds::manifests::manifests() {
                let path = PathBuf::from(dir).join(file);
                if let Err(e) = fs::write(&path, yaml) {
                    eprintln!("crdgen: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: crdgen [--out DIR]\n  prints the CRD manifests, or writes one file per CRD into DIR"
            );
            ExitCode::from(2)
        }
    }
}
