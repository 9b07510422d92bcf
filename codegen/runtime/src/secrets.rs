//! Secret values (client secret, subscription key, access token): redacted in `Debug`, never
//! `Display`ed, readable only through an explicit [`Secret::expose`].

use std::fmt;

/// A value that must not show up in logs, `Debug` output or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; the one way to read it, so every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (a missing credential).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert!(!format!("{:#?}", Some(secret.clone())).contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-very-secret");
    }
}
