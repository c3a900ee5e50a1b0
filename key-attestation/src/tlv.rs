//! A minimal, bounded DER reader for what `der` 0.7 cannot decode: Android's AuthorizationList
//! uses context-specific tags up to [719], above the low-tag-number form (0–30).
//!
//! Only definite lengths are read (DER has no others); a length or tag past the end of the
//! input, an indefinite length, a non-minimal tag number or one over 2^28 is an error. Nothing
//! recurses: callers descend explicitly, so depth is bounded by the code.

/// The class bits of an identifier octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
	Universal,
	Application,
	Context,
	Private,
}

/// One TLV: its tag and content.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
	pub class: Class,
	pub constructed: bool,
	pub number: u32,
	pub content: &'a [u8],
	/// The whole TLV, header included.
	pub raw: &'a [u8],
}

impl Tlv<'_> {
	/// A universal tag of this number (2 INTEGER, 4 OCTET STRING, 10 ENUMERATED, 16 SEQUENCE...).
	pub fn is_universal(&self, number: u32) -> bool {
		self.class == Class::Universal && self.number == number
	}
}

pub const BOOLEAN: u32 = 1;
pub const INTEGER: u32 = 2;
pub const OCTET_STRING: u32 = 4;
pub const ENUMERATED: u32 = 10;
pub const SEQUENCE: u32 = 16;

/// The malformation found (the caller maps it to its own error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Reads consecutive TLVs from a buffer.
pub struct Reader<'a> {
	rest: &'a [u8],
}

impl<'a> Reader<'a> {
	pub fn new(bytes: &'a [u8]) -> Self {
		Self { rest: bytes }
	}

	pub fn is_empty(&self) -> bool {
		self.rest.is_empty()
	}

	/// The next TLV, or `None` at the end of the buffer.
	pub fn next(&mut self) -> Result<Option<Tlv<'a>>, Malformed> {
		if self.rest.is_empty() {
			return Ok(None);
		}
		let input = self.rest;
		let (&first, mut at) = (input.first().ok_or(Malformed)?, 1usize);
		let class = match first >> 6 {
			0 => Class::Universal,
			1 => Class::Application,
			2 => Class::Context,
			_ => Class::Private,
		};
		let constructed = first & 0x20 != 0;
		let mut number = u32::from(first & 0x1f);
		if number == 0x1f {
			// High tag number: base 128, most significant group first, at most 4 groups.
			number = 0;
			for i in 0.. {
				let b = *input.get(at).ok_or(Malformed)?;
				at += 1;
				if (i == 0 && b == 0x80) || i == 4 {
					return Err(Malformed);
				}
				number = (number << 7) | u32::from(b & 0x7f);
				if b & 0x80 == 0 {
					break;
				}
			}
			if number < 0x1f {
				return Err(Malformed);
			}
		}
		let len_byte = *input.get(at).ok_or(Malformed)?;
		at += 1;
		let len = if len_byte & 0x80 == 0 {
			usize::from(len_byte)
		} else {
			let count = usize::from(len_byte & 0x7f);
			// 0x80 is the indefinite form; more than 4 length bytes is beyond any bound here.
			if count == 0 || count > 4 {
				return Err(Malformed);
			}
			let bytes = input.get(at..at + count).ok_or(Malformed)?;
			at += count;
			bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
		};
		let end = at.checked_add(len).ok_or(Malformed)?;
		let content = input.get(at..end).ok_or(Malformed)?;
		self.rest = &input[end..];
		Ok(Some(Tlv { class, constructed, number, content, raw: &input[..end] }))
	}

	/// The next TLV, which must exist.
	pub fn take(&mut self) -> Result<Tlv<'a>, Malformed> {
		self.next()?.ok_or(Malformed)
	}
}

/// A non-negative INTEGER or ENUMERATED content that fits in a u64.
pub fn unsigned(content: &[u8]) -> Result<u64, Malformed> {
	match content {
		[] => Err(Malformed),
		// A negative value.
		[first, ..] if first & 0x80 != 0 => Err(Malformed),
		// A leading zero is only allowed before a byte whose top bit is set.
		[0, second, ..] if second & 0x80 == 0 => Err(Malformed),
		_ => {
			let digits = if content[0] == 0 { &content[1..] } else { content };
			if digits.len() > 8 {
				return Err(Malformed);
			}
			Ok(digits.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn high_tag_numbers_and_long_lengths_are_read() {
		// [704] constructed, length 3, holding INTEGER 5.
		let bytes = [0xbf, 0x85, 0x40, 0x03, 0x02, 0x01, 0x05];
		let tlv = Reader::new(&bytes).take().unwrap();
		assert_eq!((tlv.class, tlv.constructed, tlv.number), (Class::Context, true, 704));
		assert_eq!(tlv.content, &[0x02, 0x01, 0x05]);
		let long = [0x04, 0x81, 0x02, 0xaa, 0xbb];
		assert_eq!(Reader::new(&long).take().unwrap().content, &[0xaa, 0xbb]);
	}

	#[test]
	fn malformed_headers_are_errors() {
		for bytes in [
			&[0x04, 0x05, 0x00][..],               // length past the end
			&[0x30, 0x80, 0x00, 0x00],             // indefinite length
			&[0xbf, 0x80, 0x01, 0x00],             // non-minimal high tag
			&[0xbf, 0x1e, 0x00],                   // high form for a low number
			&[0xbf, 0xff, 0xff, 0xff, 0xff, 0x7f], // tag number over 2^28
			&[0x04, 0x85, 1, 0, 0, 0, 0],          // five length bytes
			&[0xbf, 0x85],                         // cut in the tag
		] {
			assert_eq!(Reader::new(bytes).take().unwrap_err(), Malformed, "{bytes:02x?}");
		}
	}

	#[test]
	fn integers_are_minimal_and_non_negative() {
		assert_eq!(unsigned(&[0x01, 0x2c]), Ok(300));
		assert_eq!(unsigned(&[0x00, 0x80]), Ok(128));
		assert!(unsigned(&[0x80]).is_err());
		assert!(unsigned(&[0x00, 0x01]).is_err());
		assert!(unsigned(&[]).is_err());
		assert!(unsigned(&[0x01; 9]).is_err());
	}
}
