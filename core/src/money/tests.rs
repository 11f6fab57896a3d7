//! Unit tests of money, rates and allocation.

use super::*;

fn m(s: &str) -> Money {
    s.parse().expect("valid money")
}

#[test]
fn parses_and_prints_two_decimals() {
    assert_eq!(m("255").to_string(), "255.00");
    assert_eq!(m("99.9").to_string(), "99.90");
    assert_eq!(m("-0.05").to_string(), "-0.05");
    assert_eq!(m("1.230").fen(), 123);
    assert!(matches!("1.234".parse::<Money>(), Err(MoneyError::TooPrecise { .. })));
    assert!(matches!("abc".parse::<Money>(), Err(MoneyError::NotANumber(_))));
}

#[test]
fn ten_over_three_equal_lines_is_334_333_333() {
    let parts = allocate(m("10.00"), &[m("10.00"), m("10.00"), m("10.00")]);
    assert_eq!(parts, vec![m("3.34"), m("3.33"), m("3.33")]);
}

#[test]
fn largest_remainder_beats_position() {
    // 1.00 over 1 : 2 → exact 0.333.. and 0.666..: the larger remainder wins.
    let parts = allocate(m("1.00"), &[m("1.00"), m("2.00")]);
    assert_eq!(parts, vec![m("0.33"), m("0.67")]);
}

#[test]
fn half_up_percentage_from_design() {
    // 9折 on 10.05 takes off 1.01 (DESIGN §4).
    let off = Rounding::HalfUp.scale(m("10.05"), 1_000, 10_000);
    assert_eq!(off, m("1.01"));
    assert_eq!(Rounding::HalfEven.scale(m("10.05"), 1_000, 10_000), m("1.00"));
    assert_eq!(Rounding::Down.scale(m("10.05"), 1_000, 10_000), m("1.00"));
}

#[test]
fn rates_parse_exactly() {
    assert_eq!("0.85".parse::<Rate>().map(Rate::bp), Ok(8_500));
    assert!("0.12345".parse::<Rate>().is_err());
    assert!("-0.1".parse::<Rate>().is_err());
}
