//! HTTP personalities: the `Server` header, the default page, the error pages and the
//! allowed methods of the product imitated, byte for byte. YAML under `decoys/`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Built-in personalities: (name, YAML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("nginx-default", include_str!("../../../decoys/nginx-default.yaml")),
    ("ehr-login", include_str!("../../../decoys/ehr-login.yaml")),
];

/// A login form whose POSTs are recorded (and always fail).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// Where the form posts to.
    pub path: String,
    pub username_field: String,
    pub password_field: String,
    /// The page answered to every attempt.
    pub failure_body: String,
}

/// The page served at the site root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexPage {
    pub content_type: String,
    pub body: String,
    /// Paths that serve it.
    pub paths: Vec<String>,
}

/// One error page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorPage {
    /// The reason phrase of the status line (nginx says `405 Not Allowed`).
    pub reason: String,
    pub body: String,
}

/// An HTTP personality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpPersonality {
    pub name: String,
    /// `Server` header value (none: no header).
    pub server: Option<String>,
    pub index: IndexPage,
    /// Status code → page. 400, 404, 405 and 500 are required.
    pub errors: BTreeMap<u16, ErrorPage>,
    /// Methods answered normally; others get 405.
    pub methods: Vec<String>,
    /// A login form, if the product has one.
    #[serde(default)]
    pub login: Option<LoginForm>,
}

impl HttpPersonality {
    /// A built-in personality by name.
    pub fn built_in(name: &str) -> Option<Result<Self, String>> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, yaml)| Self::parse(yaml))
    }

    /// Parses and checks a personality file's text.
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let p: HttpPersonality = marked_yaml::from_yaml(0, yaml).map_err(|e| e.to_string())?;
        for code in [400, 404, 405, 500] {
            if !p.errors.contains_key(&code) {
                return Err(format!("personality {} has no {code} error page", p.name));
            }
        }
        Ok(p)
    }

    /// The error page for `status` (falls back to 500, which `parse` guarantees).
    pub fn error(&self, status: u16) -> (u16, &ErrorPage) {
        static NONE: ErrorPage = ErrorPage { reason: String::new(), body: String::new() };
        match self.errors.get(&status) {
            Some(p) => (status, p),
            None => (500, self.errors.get(&500).unwrap_or(&NONE)),
        }
    }
}
