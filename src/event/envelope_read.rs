//! Reading an event in one pass. The wire format puts the kind's tag and details
//! beside the envelope's fields (`{"id":…,"kind":"ssh_auth","details":{…}}`); serde's
//! derived reader for that (`flatten`) copies every field after the envelope into a
//! buffer before it can read the kind, which was most of the time a 50,000-event
//! incident took to show. This reader hands the details straight to the kind once the
//! tag is known, and buffers only when a writer put `details` before `kind`.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::address::{Local, Remote};
use super::envelope::{Event, EventId, SessionId};
use super::kind::EventKind;
use super::time::Timestamp;
use super::token::TokenHit;

/// The names of an event's top-level fields; any other is skipped, as before.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Id,
    Time,
    Sensor,
    Decoy,
    Source,
    Destination,
    Session,
    Kind,
    Details,
    Token,
    ClaimedTime,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

/// Sets a field once; a second value is an error, as in a derived reader.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let (mut id, mut time, mut sensor) = (None::<EventId>, None::<Timestamp>, None::<String>);
        let (mut decoy, mut source, mut destination, mut session) =
            (None::<Option<String>>, None::<Option<Remote>>, None::<Option<Local>>, None::<Option<SessionId>>);
        let (mut token, mut claimed_time) = (None::<Option<TokenHit>>, None::<Option<Timestamp>>);
        let mut tag: Option<String> = None;
        let mut kind: Option<EventKind> = None;
        // Details met before the tag, kept until the tag comes.
        let mut early: Option<serde_json::Value> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Id => once(&mut id, map.next_value()?, "id")?,
                Field::Time => once(&mut time, map.next_value()?, "time")?,
                Field::Sensor => once(&mut sensor, map.next_value()?, "sensor")?,
                Field::Decoy => once(&mut decoy, map.next_value()?, "decoy")?,
                Field::Source => once(&mut source, map.next_value()?, "source")?,
                Field::Destination => once(&mut destination, map.next_value()?, "destination")?,
                Field::Session => once(&mut session, map.next_value()?, "session")?,
                Field::Token => once(&mut token, map.next_value()?, "token")?,
                Field::ClaimedTime => once(&mut claimed_time, map.next_value()?, "claimed_time")?,
                Field::Kind => once(&mut tag, map.next_value()?, "kind")?,
                Field::Details => {
                    if kind.is_some() || early.is_some() {
                        return Err(de::Error::duplicate_field("details"));
                    }
                    match &tag {
                        Some(t) => kind = Some(map.next_value_seed(KindSeed { tag: t })?),
                        None => early = Some(map.next_value()?),
                    }
                }
                Field::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let tag = tag.ok_or_else(|| de::Error::missing_field("kind"))?;
        let kind = match (kind, early) {
            (Some(k), _) => k,
            (None, Some(details)) => KindSeed { tag: &tag }.deserialize(details).map_err(de::Error::custom)?,
            (None, None) => {
                EventKind::deserialize(MapAccessDeserializer::new(TagThenDetails::<StrDeserializer<'_, A::Error>> { tag: Some(&tag), details: None }))?
            }
        };
        Ok(Event {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            time: time.ok_or_else(|| de::Error::missing_field("time"))?,
            sensor: sensor.ok_or_else(|| de::Error::missing_field("sensor"))?,
            decoy: decoy.flatten(),
            source: source.flatten(),
            destination: destination.flatten(),
            session: session.flatten(),
            kind,
            token: token.flatten(),
            claimed_time: claimed_time.flatten(),
        })
    }
}

/// Reads the details of the kind named `tag` from wherever they stand.
struct KindSeed<'t> {
    tag: &'t str,
}

impl<'de> DeserializeSeed<'de> for KindSeed<'_> {
    type Value = EventKind;

    fn deserialize<D: Deserializer<'de>>(self, details: D) -> Result<EventKind, D::Error> {
        EventKind::deserialize(MapAccessDeserializer::new(TagThenDetails { tag: Some(self.tag), details: Some(details) }))
    }
}

/// The two entries the kind's own (adjacently tagged) reader expects: `kind`, then
/// `details` when there are any.
struct TagThenDetails<'t, D> {
    tag: Option<&'t str>,
    details: Option<D>,
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for TagThenDetails<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, D::Error> {
        let key = if self.tag.is_some() {
            "kind"
        } else if self.details.is_some() {
            "details"
        } else {
            return Ok(None);
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, D::Error> {
        if let Some(tag) = self.tag.take() {
            return seed.deserialize(tag.into_deserializer());
        }
        match self.details.take() {
            Some(details) => seed.deserialize(details),
            None => Err(de::Error::custom("a value asked for after the last entry")),
        }
    }
}

#[cfg(test)]
#[path = "envelope_read_tests.rs"]
mod tests;
