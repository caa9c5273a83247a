//! A small, strict reader of the XML AWS's Query services answer with (IAM):
//! the whole answer (at most [`super::MAX_ANSWER_BYTES`]) into a tree of
//! elements, each with its text. Well-formed or refused: every element
//! closed by its own name, one root, no DTD; bounded in depth and in the
//! number of elements, so a hostile answer costs at most a few MB and never
//! panics. Names lose their namespace prefix; attributes are ignored.

/// One element: its local name, its text (entities resolved), its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

/// AWS's answers nest 5 deep; anything past this is not one.
const MAX_DEPTH: usize = 32;
/// IAM's pages hold at most 1000 items of a few fields each.
const MAX_ELEMENTS: usize = 50_000;

/// Why a document was refused (for tests and debugging; never shown with
/// the document's text, which may hold a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlError {
    NotUtf8,
    /// A syntax error, a close tag of another element, text outside the
    /// root, a second root, a DTD, or a bad entity.
    Syntax,
    Unclosed,
    NoRoot,
    TooDeep,
    TooMany,
}

/// An answer may hold a new key's secret (CreateAccessKey): wiped on drop.
impl Drop for Element {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`, trimmed.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// The element at `path` below this one (`["Error", "Code"]`).
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |el, name| el.child(name))
    }
}

/// Reads `bytes` as one XML document.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    use xmlparser::{ElementEnd, Token};
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    for token in xmlparser::Tokenizer::from(text) {
        match token.map_err(|_| XmlError::Syntax)? {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err(XmlError::Syntax);
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooMany);
                }
                if open.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                open.push(Element {
                    name: local.as_str().to_string(),
                    text: String::new(),
                    children: Vec::new(),
                });
            }
            Token::ElementEnd { end, .. } => {
                let closes = match end {
                    ElementEnd::Open => continue,
                    ElementEnd::Empty => None,
                    ElementEnd::Close(_, local) => Some(local.as_str()),
                };
                let done = open.pop().ok_or(XmlError::Syntax)?;
                if closes.is_some_and(|name| name != done.name) {
                    return Err(XmlError::Syntax);
                }
                match open.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Token::Text { text } => {
                let mut text = unescape(text.as_str()).ok_or(XmlError::Syntax)?;
                match open.last_mut() {
                    Some(el) if el.text.is_empty() => el.text = text,
                    Some(el) => {
                        el.text.push_str(&text);
                        zeroize::Zeroize::zeroize(&mut text);
                    }
                    None if text.trim().is_empty() => {}
                    None => return Err(XmlError::Syntax),
                }
            }
            Token::Cdata { text, .. } => match open.last_mut() {
                Some(el) => el.text.push_str(text.as_str()),
                None => return Err(XmlError::Syntax),
            },
            Token::DtdStart { .. }
            | Token::EmptyDtd { .. }
            | Token::EntityDeclaration { .. }
            | Token::DtdEnd { .. } => return Err(XmlError::Syntax),
            Token::Declaration { .. }
            | Token::ProcessingInstruction { .. }
            | Token::Comment { .. }
            | Token::Attribute { .. } => {}
        }
    }
    if !open.is_empty() {
        return Err(XmlError::Unclosed);
    }
    root.ok_or(XmlError::NoRoot)
}

/// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#N;` / `&#xN;` resolved;
/// any other `&` refused (XML has no other entities without a DTD).
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').filter(|&e| e <= 10)?;
        let name = &after[..end];
        let ch = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => name.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_answer_reads_into_a_tree() {
        let doc = parse(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListAccessKeysResult>
    <AccessKeyMetadata><member><AccessKeyId>AKIA1</AccessKeyId></member><member/></AccessKeyMetadata>
    <IsTruncated>false</IsTruncated>
  </ListAccessKeysResult>
  <!-- a comment --><ResponseMetadata><RequestId>r&amp;&#49;&#x32;<![CDATA[<x>]]></RequestId></ResponseMetadata>
</ListAccessKeysResponse>"#,
        )
        .unwrap();
        assert_eq!(doc.name, "ListAccessKeysResponse");
        let result = doc.child("ListAccessKeysResult").unwrap();
        let members: Vec<_> = result
            .child("AccessKeyMetadata")
            .unwrap()
            .all("member")
            .collect();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].text_of("AccessKeyId"), Some("AKIA1"));
        assert_eq!(result.text_of("IsTruncated"), Some("false"));
        assert_eq!(
            doc.at(&["ResponseMetadata", "RequestId"]).unwrap().text,
            "r&12<x>"
        );
    }

    #[test]
    fn prefixes_are_dropped() {
        let doc = parse(b"<a:R xmlns:a='u'><a:B>x</a:B></a:R>").unwrap();
        assert_eq!(doc.text_of("B"), Some("x"));
    }

    #[test]
    fn broken_and_hostile_documents_are_refused() {
        let cases: &[(&[u8], XmlError)] = &[
            (b"", XmlError::NoRoot),
            (b"   ", XmlError::NoRoot),
            (b"<a><b>cut", XmlError::Unclosed),
            (b"<a><b></a></b>", XmlError::Syntax),
            (b"<a></b>", XmlError::Syntax),
            (b"<a/><b/>", XmlError::Syntax),
            (b"text<a/>", XmlError::Syntax),
            (b"<a>&bogus;</a>", XmlError::Syntax),
            (b"<a>&#xFFFFFFFF;</a>", XmlError::Syntax),
            (b"<a>& </a>", XmlError::Syntax),
            (b"<a>&#55296;</a>", XmlError::Syntax),
            (b"<html>proxy error</html", XmlError::Syntax),
            (
                b"<!DOCTYPE a [<!ENTITY x \"yyyy\">]><a>&x;</a>",
                XmlError::Syntax,
            ),
            (b"<a>\xff</a>", XmlError::NotUtf8),
        ];
        for (doc, why) in cases {
            assert_eq!(parse(doc), Err(*why), "{:?}", String::from_utf8_lossy(doc));
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse(many.as_bytes()), Err(XmlError::TooMany));
        // A megabyte of one text, and control characters, are read as text
        // (the callers check values).
        let big = format!("<a>{}&#27;&#10;</a>", "x".repeat(1024 * 1024));
        let doc = parse(big.as_bytes()).unwrap();
        assert!(doc.text.ends_with("\u{1b}\n"));
    }
}
