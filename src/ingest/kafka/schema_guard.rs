//! Writer schemas whose data could kill the consumer are refused before any body is decoded.
//! apache-avro decodes a whole datum recursively into memory, so two shapes are dangerous in
//! a message from an untrusted producer:
//!
//! - a **recursive** type (a record that contains itself): a small body can nest thousands of
//!   levels deep and overflow the decoding thread's stack, which aborts the process rather
//!   than panicking, so no guard around the decoder could catch it;
//! - an **array of items that take zero bytes** (null, `fixed` of size 0, records of such
//!   fields): a block count costs a few bytes while each item costs memory, and nested such
//!   arrays multiply — a hundred-byte message can ask for tens of gigabytes.
//!
//! Every other type reads at least one byte per value, so the values a body can produce are
//! bounded by its length. The contract has neither shape, so refusing them loses no posting
//! the contract could read except through fields it would ignore.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, NamesRef, NamespaceRef, ResolvedSchema};

/// Why `schema` is refused, or `None` when its data decodes in bounded stack and memory.
pub fn refusal(schema: &Schema) -> Option<String> {
    let resolved = match ResolvedSchema::new(schema) {
        Ok(resolved) => resolved,
        Err(e) => return Some(format!("its named types do not resolve: {e}")),
    };
    let mut walk = Walk {
        names: resolved.get_names(),
        path: Vec::new(),
        known: HashMap::new(),
    };
    walk.zero_sized(schema, None).err()
}

struct Walk<'n, 's> {
    names: &'n NamesRef<'s>,
    /// The named records being walked, outermost first: meeting one again is recursion.
    path: Vec<Name>,
    /// Named types already checked, and whether their values take zero bytes.
    known: HashMap<Name, bool>,
}

impl Walk<'_, '_> {
    /// Whether values of `schema` can be encoded in zero bytes; an error for a refused shape.
    fn zero_sized(&mut self, schema: &Schema, namespace: NamespaceRef<'_>) -> Result<bool, String> {
        match schema {
            Schema::Null => Ok(true),
            Schema::Fixed(fixed) | Schema::Duration(fixed) => Ok(fixed.size == 0),
            Schema::Decimal(decimal) => Ok(matches!(&decimal.inner, InnerDecimalSchema::Fixed(f) if f.size == 0)),
            Schema::Array(array) => {
                if self.zero_sized(&array.items, namespace)? {
                    return Err(
                        "it has an array of items that take no bytes (null or empty records), so a few bytes can declare billions of them"
                            .into(),
                    );
                }
                Ok(false)
            }
            Schema::Map(map) => {
                self.zero_sized(&map.types, namespace)?;
                Ok(false)
            }
            Schema::Union(union) => {
                for variant in union.variants() {
                    self.zero_sized(variant, namespace)?;
                }
                Ok(false)
            }
            Schema::Record(record) => {
                let name = record.name.fully_qualified_name(namespace).into_owned();
                self.named(name, |walk, name| {
                    let mut all_zero = true;
                    for field in &record.fields {
                        all_zero &= walk.zero_sized(&field.schema, name.namespace())?;
                    }
                    Ok(all_zero)
                })
            }
            Schema::Ref { name } => {
                let name = name.fully_qualified_name(namespace).into_owned();
                if self.path.contains(&name) {
                    return Err(format!(
                        "type {} contains itself, so a small message can nest deep enough to overflow the decoder's stack",
                        name.fullname(None)
                    ));
                }
                if let Some(known) = self.known.get(&name) {
                    return Ok(*known);
                }
                let definition = *self
                    .names
                    .get(&name)
                    .ok_or_else(|| format!("type {} is referenced but never defined", name.fullname(None)))?;
                self.zero_sized(definition, name.namespace())
            }
            _ => Ok(false),
        }
    }

    /// Walks a named record's fields with its name on the path, remembering the answer.
    fn named(&mut self, name: Name, fields: impl FnOnce(&mut Self, &Name) -> Result<bool, String>) -> Result<bool, String> {
        if let Some(known) = self.known.get(&name) {
            return Ok(*known);
        }
        self.path.push(name.clone());
        let answer = fields(self, &name);
        self.path.pop();
        let answer = answer?;
        self.known.insert(name, answer);
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        refusal(&Schema::parse_str(text).expect("schema parses"))
    }

    #[test]
    fn the_contract_and_ordinary_schemas_pass() {
        assert_eq!(refusal(crate::contract::schema()), None);
        assert_eq!(
            refused(
                r#"{"type":"record","name":"A","fields":[{"name":"tags","type":{"type":"array","items":"string"}},{"name":"m","type":{"type":"map","values":"null"}},{"name":"n","type":"null"}]}"#
            ),
            None
        );
        let shared = r#"{"type":"record","name":"A","fields":[
            {"name":"x","type":{"type":"record","name":"P","fields":[{"name":"v","type":"long"}]}},
            {"name":"y","type":"P"},
            {"name":"z","type":{"type":"array","items":"P"}}]}"#;
        assert_eq!(refused(shared), None, "a type used twice is not recursion");
    }

    #[test]
    fn recursive_types_are_refused() {
        let list = r#"{"type":"record","name":"Node","namespace":"x","fields":[{"name":"next","type":["null","Node"]}]}"#;
        let reason = refused(list).expect("refused");
        assert!(reason.contains("x.Node contains itself"), "{reason}");
        let inner = r#"{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"again","type":{"type":"array","items":"B"}}]}}]}"#;
        assert!(refused(inner).is_some());
    }

    #[test]
    fn arrays_of_zero_byte_items_are_refused() {
        for items in [
            r#""null""#,
            r#"{"type":"fixed","name":"F","size":0}"#,
            r#"{"type":"record","name":"E","fields":[{"name":"n","type":"null"}]}"#,
            r#"{"type":"array","items":"null"}"#,
        ] {
            let text = format!(r#"{{"type":"record","name":"A","fields":[{{"name":"a","type":{{"type":"array","items":{items}}}}}]}}"#);
            let reason = refused(&text).unwrap_or_else(|| panic!("{text} refused"));
            assert!(reason.contains("take no bytes"), "{reason}");
        }
    }
}
