//! Typed command-line values, parsed by clap (`value_parser`) before a command runs, and shown
//! back the same way.

use std::{fmt, str::FromStr};

use sp_core::H256;

/// The token's symbol and its decimals (node/src/chain_spec.rs: `tokenSymbol`, `tokenDecimals`).
pub const TOKEN: &str = "EDGE";
pub const DECIMALS: u32 = 12;
const PLANCKS_PER_TOKEN: u128 = 10u128.pow(DECIMALS);

/// An amount of the chain's token: `100EDGE`, `1.5 EDGE` or plain plancks (`150000000000000`);
/// shown with decimals (`150 EDGE`, `1.5 EDGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(pub u128);

impl FromStr for Amount {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		let bad =
			|why: &str| {
				format!("{text:?} is not an amount ({why}): write `100{TOKEN}`, `1.5 {TOKEN}` or plancks")
			};
		let t = text.trim();
		let Some(number) = t
			.len()
			.checked_sub(TOKEN.len())
			.filter(|&at| t.is_char_boundary(at) && t[at..].eq_ignore_ascii_case(TOKEN))
			.map(|at| t[..at].trim_end())
		else {
			return digits(t).map(Amount).ok_or_else(|| bad("plancks are whole numbers"));
		};
		let (whole_digits, frac_digits) = number.split_once('.').unwrap_or((number, ""));
		if frac_digits.len() > DECIMALS as usize {
			return Err(bad(&format!("at most {DECIMALS} decimals")));
		}
		let whole = match whole_digits {
			"" if !frac_digits.is_empty() => Some(0),
			w => digits(w),
		};
		let frac = match frac_digits {
			"" => Some(0),
			f => digits(f),
		};
		let (Some(whole), Some(frac)) = (whole, frac) else {
			return Err(bad("digits with at most one decimal point"));
		};
		let scale = 10u128.pow(DECIMALS - frac_digits.len() as u32);
		whole
			.checked_mul(PLANCKS_PER_TOKEN)
			.and_then(|w| w.checked_add(frac * scale))
			.map(Amount)
			.ok_or_else(|| bad("too large"))
	}
}

/// A non-empty run of ASCII digits as a number (`None` for anything else or on overflow).
fn digits(text: &str) -> Option<u128> {
	if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
		return None;
	}
	text.parse().ok()
}

impl fmt::Display for Amount {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let (whole, frac) = (self.0 / PLANCKS_PER_TOKEN, self.0 % PLANCKS_PER_TOKEN);
		if frac == 0 {
			write!(f, "{whole} {TOKEN}")
		} else {
			let frac = format!("{frac:0width$}", width = DECIMALS as usize);
			write!(f, "{whole}.{} {TOKEN}", frac.trim_end_matches('0'))
		}
	}
}

/// A model id (or any 32-byte id): `0x` and 64 hex digits.
pub fn h256(text: &str) -> Result<H256, String> {
	crate::chain::parse_hex::<32>(text, "an id").map(H256).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_in_tokens_or_plancks_and_show_with_decimals() {
		let edge = PLANCKS_PER_TOKEN;
		for (text, plancks) in [
			("100EDGE", 100 * edge),
			("100 EDGE", 100 * edge),
			("1.5edge", edge + edge / 2),
			(".25 EDGE", edge / 4),
			("0.000000000001EDGE", 1),
			("150000000000000", 150 * edge),
			("0", 0),
		] {
			assert_eq!(text.parse::<Amount>(), Ok(Amount(plancks)), "{text}");
		}
		for text in [
			"",
			"EDGE",
			"-1EDGE",
			"1.2.3EDGE",
			"1e3",
			"1.5",
			"0.0000000000001EDGE",
			"12 DOT",
			"340282366920938463463374607431768211456",
			"1000000000000000000000000000EDGE",
		] {
			let e = text.parse::<Amount>().unwrap_err();
			assert!(e.contains("is not an amount"), "{text}: {e}");
		}
		assert_eq!(Amount(150 * edge).to_string(), "150 EDGE");
		assert_eq!(Amount(edge + edge / 2).to_string(), "1.5 EDGE");
		assert_eq!(Amount(1).to_string(), "0.000000000001 EDGE");
		// What it shows parses back.
		for plancks in [0, 1, edge, 123_456_789_012_345] {
			assert_eq!(Amount(plancks).to_string().parse(), Ok(Amount(plancks)));
		}
	}

	#[test]
	fn ids_are_32_bytes_of_hex() {
		assert_eq!(h256(&format!("0x{}", "ab".repeat(32))), Ok(H256([0xab; 32])));
		assert!(h256("0x1234").unwrap_err().contains("32 bytes of hex"));
		assert!(h256(&"zz".repeat(32)).is_err());
	}
}
