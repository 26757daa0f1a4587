//! `At<T>`: a configuration value together with where it was written.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A value plus its 1-based (line, column) in the YAML file, when known.
#[derive(Debug, Clone)]
pub struct At<T> {
    pub value: T,
    pub position: Option<(usize, usize)>,
}

impl<'de, T: Deserialize<'de> + Clone> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = marked_yaml::Spanned::<T>::deserialize(d)?;
        let position = spanned.span().start().map(|m| (m.line(), m.column()));
        Ok(At { value: (*spanned).clone(), position })
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for At<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T: fmt::Display> fmt::Display for At<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}
