//! Amounts in request bodies, parsed from the raw JSON token without ever
//! becoming a float (DESIGN §2, §10): `12.3`, `"12.30"` and `12` are 12.30
//! yuan; `12.345` is refused for its third decimal, and so is
//! `12.3400000000000001`, which a float would have silently rounded.

use mallkit_core::Money;
use serde::{Deserialize, Deserializer, de};
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

/// A yuan amount read exactly from a JSON number or string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Money);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        let text = raw.get().trim();
        let token = if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            inner
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            text
        } else {
            return Err(de::Error::custom(format!("expected an amount in yuan, got {text}")));
        };
        token.parse::<Money>().map(Amount).map_err(de::Error::custom)
    }
}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        Money::schema()
    }
}
impl ToSchema for Amount {
    fn name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
}
