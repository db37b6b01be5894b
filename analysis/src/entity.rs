//! The entity types the analyzer reports and the findings it returns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A kind of personal data or credential, named as Presidio names it where Presidio has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityType {
    /// A person's name.
    Person,
    /// A city, region, country or continent.
    Location,
    /// A calendar date or a time of day.
    DateTime,
    /// An e-mail address.
    EmailAddress,
    /// A telephone number (US or international).
    PhoneNumber,
    /// A US Social Security number.
    UsSsn,
    /// A US Individual Taxpayer Identification Number.
    UsItin,
    /// A US passport number.
    UsPassport,
    /// A US driver's licence number.
    UsDriverLicense,
    /// A US bank account number.
    UsBankNumber,
    /// A payment card number.
    CreditCard,
    /// An International Bank Account Number.
    IbanCode,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A web address.
    Url,
    /// A Bitcoin address.
    Crypto,
    /// A US DEA registration number (medical licence).
    MedicalLicense,
    /// A UK National Health Service number.
    UkNhs,
    /// An AWS access key id.
    AwsAccessKey,
    /// A PEM or PGP private key block.
    PrivateKey,
    /// A JSON Web Token.
    Jwt,
    /// An API token or secret (GitHub, Slack, Stripe, Google, generic).
    ApiKey,
}

impl EntityType {
    /// Every entity type, in a fixed order.
    pub const ALL: [EntityType; 21] = [
        EntityType::Person,
        EntityType::Location,
        EntityType::DateTime,
        EntityType::EmailAddress,
        EntityType::PhoneNumber,
        EntityType::UsSsn,
        EntityType::UsItin,
        EntityType::UsPassport,
        EntityType::UsDriverLicense,
        EntityType::UsBankNumber,
        EntityType::CreditCard,
        EntityType::IbanCode,
        EntityType::IpAddress,
        EntityType::Url,
        EntityType::Crypto,
        EntityType::MedicalLicense,
        EntityType::UkNhs,
        EntityType::AwsAccessKey,
        EntityType::PrivateKey,
        EntityType::Jwt,
        EntityType::ApiKey,
    ];

    /// The serialised name, e.g. `US_SSN`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Location => "LOCATION",
            EntityType::DateTime => "DATE_TIME",
            EntityType::EmailAddress => "EMAIL_ADDRESS",
            EntityType::PhoneNumber => "PHONE_NUMBER",
            EntityType::UsSsn => "US_SSN",
            EntityType::UsItin => "US_ITIN",
            EntityType::UsPassport => "US_PASSPORT",
            EntityType::UsDriverLicense => "US_DRIVER_LICENSE",
            EntityType::UsBankNumber => "US_BANK_NUMBER",
            EntityType::CreditCard => "CREDIT_CARD",
            EntityType::IbanCode => "IBAN_CODE",
            EntityType::IpAddress => "IP_ADDRESS",
            EntityType::Url => "URL",
            EntityType::Crypto => "CRYPTO",
            EntityType::MedicalLicense => "MEDICAL_LICENSE",
            EntityType::UkNhs => "UK_NHS",
            EntityType::AwsAccessKey => "AWS_ACCESS_KEY",
            EntityType::PrivateKey => "PRIVATE_KEY",
            EntityType::Jwt => "JWT",
            EntityType::ApiKey => "API_KEY",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::UnknownEntityType(s.to_string()))
    }
}

/// Where a finding sits in the text: Unicode code-point offsets, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Offset of the first code point.
    pub start: usize,
    /// Offset one past the last code point.
    pub end: usize,
}

/// One piece of detected personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// What kind of data it is.
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// The detected text itself.
    pub value: String,
    /// Where it is in the input.
    pub position: Position,
    /// How sure the analyzer is, in [0, 1], two decimals.
    pub confidence: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_round_trip_through_their_presidio_names() {
        for t in EntityType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(t.as_str().parse::<EntityType>().unwrap(), t);
        }
        assert!("SSN".parse::<EntityType>().is_err());
    }
}
