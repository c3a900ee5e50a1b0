//! A minimal, bounded CBOR (RFC 8949) reader for App Attest objects: definite-length unsigned
//! integers, byte and text strings, arrays and maps. Anything else (negative integers, tags,
//! floats, indefinite lengths, reserved additional information) is an error, as is a length past
//! the end of the input. Nothing recurses: the caller descends explicitly.

/// The input is not the CBOR expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

#[cfg(test)]
const UNSIGNED: u8 = 0;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;

/// Reads items from the front of a byte slice.
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

	/// A byte string.
	pub fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
		let len = self.head(BYTES)?;
		self.take(len)
	}

	/// A text string's bytes (UTF-8 is not checked: callers compare them with known keys).
	pub fn text(&mut self) -> Result<&'a [u8], Malformed> {
		let len = self.head(TEXT)?;
		self.take(len)
	}

	/// An array's item count; its items follow.
	pub fn array(&mut self) -> Result<u64, Malformed> {
		self.head(ARRAY)
	}

	/// A map's entry count; its keys and values follow, alternating.
	pub fn map(&mut self) -> Result<u64, Malformed> {
		self.head(MAP)
	}

	/// An unsigned integer.
	#[cfg(test)]
	pub fn unsigned(&mut self) -> Result<u64, Malformed> {
		self.head(UNSIGNED)
	}

	/// The head of an item of major type `major`: its argument (a length, a count or a value).
	fn head(&mut self, major: u8) -> Result<u64, Malformed> {
		let (&initial, rest) = self.rest.split_first().ok_or(Malformed)?;
		if initial >> 5 != major {
			return Err(Malformed);
		}
		let width = match initial & 0x1f {
			small @ 0..=23 => {
				self.rest = rest;
				return Ok(small.into());
			},
			24 => 1,
			25 => 2,
			26 => 4,
			27 => 8,
			// 28–30 are reserved, 31 is an indefinite length.
			_ => return Err(Malformed),
		};
		let (bytes, rest) = rest.split_at_checked(width).ok_or(Malformed)?;
		self.rest = rest;
		Ok(bytes.iter().fold(0u64, |value, b| (value << 8) | u64::from(*b)))
	}

	fn take(&mut self, len: u64) -> Result<&'a [u8], Malformed> {
		let len = usize::try_from(len).map_err(|_| Malformed)?;
		let (taken, rest) = self.rest.split_at_checked(len).ok_or(Malformed)?;
		self.rest = rest;
		Ok(taken)
	}
}

/// CBOR encoding of the same subset, for the test CA's objects.
#[cfg(any(test, feature = "test-ca"))]
pub mod write {
	use alloc::vec::Vec;

	/// Appends the head of an item of major type `major` with argument `value`, in its shortest
	/// form.
	pub fn head(out: &mut Vec<u8>, major: u8, value: u64) {
		let major = major << 5;
		match value {
			0..=23 => out.push(major | value as u8),
			24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
			0x100..=0xffff => {
				out.push(major | 25);
				out.extend_from_slice(&(value as u16).to_be_bytes());
			},
			0x1_0000..=0xffff_ffff => {
				out.push(major | 26);
				out.extend_from_slice(&(value as u32).to_be_bytes());
			},
			_ => {
				out.push(major | 27);
				out.extend_from_slice(&value.to_be_bytes());
			},
		}
	}

	pub fn bytes(out: &mut Vec<u8>, bytes: &[u8]) {
		head(out, super::BYTES, bytes.len() as u64);
		out.extend_from_slice(bytes);
	}

	pub fn text(out: &mut Vec<u8>, text: &str) {
		head(out, super::TEXT, text.len() as u64);
		out.extend_from_slice(text.as_bytes());
	}

	pub fn array(out: &mut Vec<u8>, len: usize) {
		head(out, super::ARRAY, len as u64);
	}

	pub fn map(out: &mut Vec<u8>, len: usize) {
		head(out, super::MAP, len as u64);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec::Vec;

	#[test]
	fn items_round_trip_in_every_head_width() {
		for value in [0, 23, 24, 255, 256, 65_535, 65_536, u32::MAX as u64, u64::MAX] {
			let mut out = Vec::new();
			write::head(&mut out, UNSIGNED, value);
			let mut reader = Reader::new(&out);
			assert_eq!(reader.unsigned(), Ok(value));
			assert!(reader.is_empty());
		}
		let mut out = Vec::new();
		write::map(&mut out, 1);
		write::text(&mut out, "x5c");
		write::array(&mut out, 1);
		write::bytes(&mut out, &[7; 300]);
		let mut reader = Reader::new(&out);
		assert_eq!(reader.map(), Ok(1));
		assert_eq!(reader.text(), Ok(&b"x5c"[..]));
		assert_eq!(reader.array(), Ok(1));
		assert_eq!(reader.bytes(), Ok(&[7; 300][..]));
		assert!(reader.is_empty());
	}

	#[test]
	fn wrong_types_short_input_and_indefinite_lengths_are_malformed() {
		// A text string where a byte string is expected.
		assert_eq!(Reader::new(&[0x63, b'f', b'm', b't']).bytes(), Err(Malformed));
		// A byte string longer than the input.
		assert_eq!(Reader::new(&[0x45, 1, 2]).bytes(), Err(Malformed));
		// A two-byte length with one byte.
		assert_eq!(Reader::new(&[0x59, 1]).bytes(), Err(Malformed));
		// An indefinite-length byte string, and a reserved additional information.
		assert_eq!(Reader::new(&[0x5f, 0x41, 0, 0xff]).bytes(), Err(Malformed));
		assert_eq!(Reader::new(&[0x5c]).bytes(), Err(Malformed));
		// A length that does not fit the address space of any input.
		assert_eq!(
			Reader::new(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).bytes(),
			Err(Malformed)
		);
		assert_eq!(Reader::new(&[]).map(), Err(Malformed));
	}
}
