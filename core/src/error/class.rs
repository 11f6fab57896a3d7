//! How adapters see a refusal: its class and what every area's error tells.

/// What kind of refusal an error is, for adapters to map to their own
/// codes (HTTP: 400, 404, 409, 403, 401, 429, 503) without matching on
/// the error itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The request is malformed or out of range; it names the field.
    InvalidInput,
    /// Nothing there, or not the caller's to see.
    NotFound,
    /// A business rule refused given the current state (stock, status, limits).
    Conflict,
    /// The caller's role may not do this, or the account is frozen.
    Forbidden,
    /// No valid session or credentials.
    Unauthenticated,
    /// Too many attempts or codes lately.
    TooManyRequests,
    /// The store or the payment provider failed; retry later.
    Unavailable,
}

/// An area's refusal, as adapters see it. The English text is `Display`.
pub trait AreaError: std::error::Error {
    /// The stable snake_case name of the rule that refused, used as
    /// `error.type` over HTTP and as `error` in scenario expectations.
    fn kind(&self) -> &'static str;
    /// The class adapters map to a status.
    fn class(&self) -> ErrorClass;
    /// The message for a Chinese-speaking user, without the values.
    fn message_zh(&self) -> &'static str;
    /// The input field at fault, when there is one.
    fn field(&self) -> Option<&str> {
        None
    }
}
