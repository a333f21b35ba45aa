//! Compact wire forms for the two big arrays a trace carries, so a capture crosses from the
//! worker to the page as two flat values instead of tens of thousands of JavaScript numbers
//! (deserialising those one by one was most of the page's cost per live capture):
//!
//! - [`bits`]: a mask's `Vec<bool>` (and a flow row's reach) as one string of `0` and `1`
//!   (`1` = blocked, or reached); [`cells`]: a drawn matrix's cells the same way;
//! - [`f32_base64`]: head weights' `Vec<f32>` as base64 of their little-endian bytes;
//! - [`json_text`]: a whole message body as one string of JSON.
//!
//! Each round-trips exactly through JSON (tested below) and through `serde-wasm-bindgen`.

/// `Vec<bool>` as a string of `0`/`1`.
pub mod bits {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bits: &[bool], s: S) -> Result<S::Ok, S::Error> {
        let text: String = bits.iter().map(|&b| if b { '1' } else { '0' }).collect();
        s.serialize_str(&text)
    }

    struct BitsVisitor;

    impl Visitor<'_> for BitsVisitor {
        type Value = Vec<bool>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string of 0 and 1")
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            v.chars()
                .map(|c| match c {
                    '0' => Ok(false),
                    '1' => Ok(true),
                    other => Err(E::custom(format!(
                        "a mask bit must be 0 or 1, not {other:?}"
                    ))),
                })
                .collect()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<bool>, D::Error> {
        d.deserialize_str(BitsVisitor)
    }
}

/// A matrix's `Vec<CellState>` as the same string of `0` (allowed) and `1` (blocked).
pub mod cells {
    use serde::{Deserializer, Serializer};

    use crate::core::viz::trace::CellState;

    pub fn serialize<S: Serializer>(cells: &[CellState], s: S) -> Result<S::Ok, S::Error> {
        let bits: Vec<bool> = cells.iter().map(|&c| c == CellState::Blocked).collect();
        super::bits::serialize(&bits, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CellState>, D::Error> {
        Ok(super::bits::deserialize(d)?
            .into_iter()
            .map(|b| {
                if b {
                    CellState::Blocked
                } else {
                    CellState::Allowed
                }
            })
            .collect())
    }
}

/// Standard base64 (RFC 4648, with padding), for bytes inside JSON text.
pub mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Result<Vec<u8>, String> {
        let text = text.as_bytes();
        if !text.len().is_multiple_of(4) {
            return Err(format!(
                "{} base64 characters are not whole groups of 4",
                text.len()
            ));
        }
        let value = |c: u8| -> Result<u32, String> {
            match c {
                b'A'..=b'Z' => Ok(u32::from(c - b'A')),
                b'a'..=b'z' => Ok(u32::from(c - b'a') + 26),
                b'0'..=b'9' => Ok(u32::from(c - b'0') + 52),
                b'+' => Ok(62),
                b'/' => Ok(63),
                _ => Err(format!("{:?} is not a base64 character", c as char)),
            }
        };
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        for (g, group) in text.chunks(4).enumerate() {
            let last = g + 1 == text.len() / 4;
            let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || pad > 0 && !last {
                return Err("misplaced base64 padding".into());
            }
            let mut n = 0u32;
            for &c in &group[..4 - pad] {
                n = n << 6 | value(c)?;
            }
            n <<= 6 * pad as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - pad]);
        }
        Ok(out)
    }
}

/// `Vec<f32>` as base64 of its little-endian bytes (a fifth of the JSON numbers' size, and one
/// string to carry).
pub mod f32_base64 {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        s.serialize_str(&super::base64::encode(&bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = super::base64::decode(&text).map_err(D::Error::custom)?;
        if !bytes.len().is_multiple_of(4) {
            return Err(D::Error::custom(format!(
                "{} bytes are not a whole number of 4-byte floats",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// A value as one string of JSON text. The worker sends its two big messages (a preview, a
/// live capture) this way: the page then parses one string in wasm instead of walking
/// thousands of JavaScript objects field by field through `serde-wasm-bindgen`, which held
/// its main thread for tens of milliseconds per message.
pub mod json_text {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(value).map_err(S::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Both {
        #[serde(with = "super::bits")]
        bits: Vec<bool>,
        #[serde(with = "super::f32_base64")]
        values: Vec<f32>,
    }

    #[test]
    fn bits_and_floats_round_trip_through_json_exactly() {
        let both = Both {
            bits: vec![true, false, false, true, true],
            values: vec![0.0, -1.5, f32::MIN_POSITIVE, 0.123_456_79, 1e30],
        };
        let json = serde_json::to_string(&both).unwrap();
        assert!(json.contains("\"10011\""), "{json}");
        assert_eq!(serde_json::from_str::<Both>(&json).unwrap(), both);
    }

    #[test]
    fn malformed_wire_forms_are_typed_errors() {
        let bad_bit = r#"{"bits":"10x","values":""}"#;
        let e = serde_json::from_str::<Both>(bad_bit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("0 or 1"), "{e}");
        let bad_len = r#"{"bits":"","values":"AQID"}"#;
        let e = serde_json::from_str::<Both>(bad_len)
            .unwrap_err()
            .to_string();
        assert!(e.contains("4-byte"), "{e}");
        let bad_char = r#"{"bits":"","values":"AQ!D"}"#;
        let e = serde_json::from_str::<Both>(bad_char)
            .unwrap_err()
            .to_string();
        assert!(e.contains("base64"), "{e}");
    }

    #[test]
    fn base64_matches_rfc_4648_test_vectors_and_round_trips() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64::encode(plain.as_bytes()), coded);
            assert_eq!(super::base64::decode(coded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(
            super::base64::decode(&super::base64::encode(&all)).unwrap(),
            all
        );
        assert!(
            super::base64::decode("Zg=a").is_err(),
            "padding inside a group"
        );
        assert!(
            super::base64::decode("Zg==Zg==").is_err(),
            "padding before the end"
        );
        assert!(super::base64::decode("Zg=").is_err(), "not a whole group");
    }

    #[test]
    fn json_text_carries_a_value_as_one_string() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Outer {
            #[serde(with = "super::json_text")]
            inner: Both,
        }
        let outer = Outer {
            inner: Both {
                bits: vec![false, true],
                values: vec![2.5],
            },
        };
        let json = serde_json::to_value(&outer).unwrap();
        assert!(json["inner"].is_string(), "{json}");
        assert_eq!(serde_json::from_value::<Outer>(json).unwrap(), outer);
    }
}
