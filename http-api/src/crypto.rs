//! The cryptography and development sinks identity needs: argon2id password
//! hashes, random tokens, SHA-256 token digests, HMAC-SHA256 callback
//! signatures, an SMS sink and a WeChat-style provider for development.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use hmac::{Hmac, KeyInit, Mac};
use mallkit_core::identity::{Credentials, IdentityProvider, SmsSender};
use sha2::{Digest, Sha256};

/// argon2id (the crate's default parameters: 19 MiB, 2 passes) for
/// passwords; 32 random bytes, hex, for tokens; SHA-256 for digests.
///
/// A hash takes tens of milliseconds of CPU. At most `max(1, cores - 1)`
/// run at once (the rest wait their turn), and on a multi-threaded tokio
/// runtime each runs under `block_in_place`, so a burst of logins never
/// holds every worker: other requests keep being served.
#[derive(Debug)]
pub struct Argon2Credentials {
    gate: HashGate,
}

impl Default for Argon2Credentials {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Argon2Credentials { gate: HashGate { free: Mutex::new(cores.saturating_sub(1).max(1)), freed: Condvar::new() } }
    }
}

/// A counting gate over the hashes in flight.
#[derive(Debug)]
struct HashGate {
    free: Mutex<usize>,
    freed: Condvar,
}

impl HashGate {
    fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        drop(free);
        let out = work();
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
        out
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not recoverable; a zeroed token would be worse.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    bytes
}

impl Argon2Credentials {
    /// Runs a hash through the gate, off the async workers where it can.
    fn hashing<T>(&self, work: impl FnOnce() -> T) -> T {
        let gated = || self.gate.run(work);
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(gated)
            }
            _ => gated(),
        }
    }
}

impl Credentials for Argon2Credentials {
    fn hash_password(&self, password: &str) -> String {
        self.hashing(|| match Argon2::default().hash_password(password.as_bytes()) {
            Ok(hash) => hash.to_string(),
            // Only a parameter error can land here; store no usable hash.
            Err(_) => String::new(),
        })
    }

    fn verify_password(&self, password: &str, hash: &str) -> bool {
        self.hashing(|| {
            PasswordHash::new(hash)
                .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
    }

    fn new_token(&self) -> String {
        hex::encode(random_bytes::<32>())
    }

    fn new_code(&self) -> String {
        let n = u32::from_le_bytes(random_bytes::<4>()) % 1_000_000;
        format!("{n:06}")
    }

    fn digest(&self, secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }
}

/// The development SMS sink: logs each code and keeps the last one per phone
/// (tests and the README's walk-through read it from here).
#[derive(Debug, Default)]
pub struct DevSms {
    last: Mutex<HashMap<String, String>>,
}

impl DevSms {
    /// The last code sent to `phone`.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).get(phone).cloned()
    }
}

impl SmsSender for DevSms {
    fn send_code(&self, phone: &str, code: &str) {
        tracing::info!(phone, code, "development SMS sink: verification code");
        self.last.lock().unwrap_or_else(|e| e.into_inner()).insert(phone.to_owned(), code.to_owned());
    }
}

/// The development WeChat-style provider: a code `dev:<name>` logs in as the
/// open id `dev-<name>`; anything else is refused. No network call.
#[derive(Debug, Default)]
pub struct DevWechat;

impl IdentityProvider for DevWechat {
    fn open_id(&self, code: &str) -> Option<String> {
        let name = code.strip_prefix("dev:")?;
        let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| format!("dev-{name}"))
    }
}

/// No SMS gateway: codes are not sent (and not logged); forgot-password
/// cannot complete. Used when the development sink is not enabled.
#[derive(Debug, Default)]
pub struct NoSms;

impl SmsSender for NoSms {
    fn send_code(&self, phone: &str, _code: &str) {
        tracing::warn!(phone, "no SMS gateway is configured: the verification code was not sent");
    }
}

/// No WeChat-style login: every code is refused.
#[derive(Debug, Default)]
pub struct NoWechat;

impl IdentityProvider for NoWechat {
    fn open_id(&self, _code: &str) -> Option<String> {
        None
    }
}

/// HMAC-SHA256 of `message` under `key`, hex (the simulated provider's
/// callback signature).
pub fn sign(key: &[u8], message: &[u8]) -> String {
    let mut mac = hmac(key);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// True when `signature` (hex) is the HMAC-SHA256 of `message`; compared in constant time.
pub fn verify(key: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature) else {
        return false;
    };
    let mut mac = hmac(key);
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail here.
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC-SHA256 takes a key of any length")
}
