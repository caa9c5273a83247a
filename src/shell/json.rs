//! json: one object, variable name to value; a variable to remove maps to null.

use super::Change;

pub fn render(changes: &[Change]) -> String {
    let mut map = serde_json::Map::new();
    for change in changes {
        match change {
            Change::Set(name, value) => map.insert(name.clone(), value.clone().into()),
            Change::Unset(name) => map.insert(name.clone(), serde_json::Value::Null),
        };
    }
    let mut out = serde_json::Value::Object(map).to_string();
    out.push('\n');
    out
}
