//! Amounts on the command line and in output: whole tokens with decimals (`0.1`, `2 GATE`) or
//! the smallest unit (`100000000000` plain integers).

use anyhow::{anyhow, bail, ensure, Result};

use crate::chain::Token;

/// Parses an amount: a plain integer is in the smallest unit; a number with a decimal point or
/// followed by the token's symbol is in whole tokens.
pub fn parse(text: &str, token: &Token) -> Result<u128> {
	let text = text.trim();
	let (number, in_tokens) = match text.strip_suffix(token.symbol.as_str()) {
		Some(number) => (number.trim(), true),
		None => (text, text.contains('.')),
	};
	if !in_tokens {
		return number.parse().map_err(|_| anyhow!("`{text}` is not an amount"));
	}
	let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
	ensure!(!whole.is_empty() || !fraction.is_empty(), "`{text}` is not an amount");
	ensure!(
		fraction.len() <= token.decimals as usize,
		"`{text}` has more than {} decimals",
		token.decimals
	);
	let digits = |part: &str| -> Result<u128> {
		if part.is_empty() {
			return Ok(0);
		}
		if !part.bytes().all(|b| b.is_ascii_digit()) {
			bail!("`{text}` is not an amount");
		}
		part.parse().map_err(|_| anyhow!("`{text}` is too large"))
	};
	let unit = 10u128.pow(token.decimals);
	let fraction_units = digits(fraction)? * 10u128.pow(token.decimals - fraction.len() as u32);
	digits(whole)?
		.checked_mul(unit)
		.and_then(|units| units.checked_add(fraction_units))
		.ok_or_else(|| anyhow!("`{text}` is too large"))
}

/// Shows an amount in whole tokens, without trailing zeros: `0.1 GATE`.
pub fn show(units: u128, token: &Token) -> String {
	let unit = 10u128.pow(token.decimals);
	let fraction = format!("{:0width$}", units % unit, width = token.decimals as usize);
	let fraction = fraction.trim_end_matches('0');
	if fraction.is_empty() {
		format!("{} {}", units / unit, token.symbol)
	} else {
		format!("{}.{fraction} {}", units / unit, token.symbol)
	}
}

/// Shows an amount that the node sent as a decimal string.
pub fn show_text(units: &str, token: &Token) -> String {
	units
		.parse()
		.map(|units| show(units, token))
		.unwrap_or_else(|_| units.to_owned())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn gate() -> Token {
		Token { decimals: 12, symbol: "GATE".into() }
	}

	#[test]
	fn amounts_parse_in_tokens_or_smallest_units() {
		assert_eq!(parse("0.1", &gate()).unwrap(), 100_000_000_000);
		assert_eq!(parse("2 GATE", &gate()).unwrap(), 2_000_000_000_000);
		assert_eq!(parse("1.5GATE", &gate()).unwrap(), 1_500_000_000_000);
		assert_eq!(parse("42", &gate()).unwrap(), 42);
		assert_eq!(parse(".25", &gate()).unwrap(), 250_000_000_000);
		for bad in ["", ".", "1.0000000000001", "x", "-1", "1e3 GATE", "1.2.3"] {
			assert!(parse(bad, &gate()).is_err(), "{bad}");
		}
		assert!(parse("999999999999999999999999999999 GATE", &gate()).is_err());
	}

	#[test]
	fn amounts_show_in_tokens() {
		assert_eq!(show(100_000_000_000, &gate()), "0.1 GATE");
		assert_eq!(show(2_000_000_000_000, &gate()), "2 GATE");
		assert_eq!(show(1, &gate()), "0.000000000001 GATE");
		assert_eq!(show_text("10000000000", &gate()), "0.01 GATE");
	}
}
