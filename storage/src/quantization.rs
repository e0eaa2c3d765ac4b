//! Qdrant's `quantization_config` as the engine runs it.
//!
//! The server validates the request shape and storage keeps it as the JSON the user sent
//! (so collection info returns it unchanged); this is the one place that says what each shape
//! does in Grove's engine: `scalar` (int8), `binary` and `turbo` build codes that graph walks
//! and large scans read, rescored with the full vectors; `product` is stored and reported as
//! having no effect (the full vectors are searched).
//!
//! `turbo` (Qdrant's TurboQuant) builds Grove's own rotated multi-bit codes
//! (`grove_index::quant::rabitq`), not Qdrant's codebook: the same request shape and memory per
//! vector, a different estimator (unbiased, with a stated bound). `bits4` and `bits2` are 4 and
//! 2 bits per rotated component; `bits1` is one bit (sign codes of the rotated vector);
//! `bits1_5` is one bit per component of a rotation into 1.5x the dimensions (Qdrant pads the
//! same way). Without `bits`, Grove uses 4 bits.

use grove_index::quant::{QuantConfig, RabitqBits};
use serde_json::Value;

/// What a stored `quantization_config` does in the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantizationEffect {
    /// No quantization configured.
    None,
    /// Codes of this kind are built and searched.
    Active(QuantConfig),
    /// Accepted and stored, but the engine searches full vectors; the reason says why.
    NoEffect(String),
}

/// The engine's reading of a stored config (`{"scalar": {...}}`, `{"binary": {...}}`,
/// `{"turbo": {...}}`, `{"product": {...}}`), or [`QuantizationEffect::None`] for `null` /
/// absent.
pub fn effect(config: Option<&Value>) -> QuantizationEffect {
    let Some(v) = config.filter(|v| !v.is_null()) else { return QuantizationEffect::None };
    let always_ram = |o: &Value| o.get("always_ram").and_then(Value::as_bool).unwrap_or(true);
    if let Some(s) = v.get("scalar") {
        let quantile = s.get("quantile").and_then(Value::as_f64).map(|q| q as f32);
        return QuantizationEffect::Active(QuantConfig::Scalar { quantile, always_ram: always_ram(s) });
    }
    if let Some(b) = v.get("binary") {
        let encoding = b.get("encoding").and_then(Value::as_str).unwrap_or("one_bit");
        if encoding != "one_bit" {
            return QuantizationEffect::NoEffect(format!(
                "binary encoding {encoding:?} is stored but Grove builds one-bit codes only; full vectors are searched"
            ));
        }
        return QuantizationEffect::Active(QuantConfig::Binary { always_ram: always_ram(b) });
    }
    if let Some(t) = v.get("turbo") {
        let bits = match t.get("bits").and_then(Value::as_str).unwrap_or("bits4") {
            "bits1" => RabitqBits::One,
            "bits1_5" => RabitqBits::OneAndHalf,
            "bits2" => RabitqBits::Two,
            "bits4" => RabitqBits::Four,
            other => {
                return QuantizationEffect::NoEffect(format!(
                    "turbo bits {other:?} is stored but Grove builds bits1, bits1_5, bits2 or bits4; full vectors are searched"
                ))
            }
        };
        return QuantizationEffect::Active(QuantConfig::RaBitQ { bits, always_ram: always_ram(t) });
    }
    if v.get("product").is_some() {
        return QuantizationEffect::NoEffect(
            "product quantization is stored but not built by Grove; full vectors are searched (use scalar for int8 codes)"
                .into(),
        );
    }
    QuantizationEffect::NoEffect("unrecognised quantization config; full vectors are searched".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_qdrant_shape_maps_to_what_the_engine_does() {
        assert_eq!(effect(None), QuantizationEffect::None);
        assert_eq!(effect(Some(&Value::Null)), QuantizationEffect::None);
        assert_eq!(
            effect(Some(&json!({"scalar": {"type": "int8", "quantile": 0.95, "always_ram": true}}))),
            QuantizationEffect::Active(QuantConfig::Scalar { quantile: Some(0.95), always_ram: true })
        );
        assert_eq!(
            effect(Some(&json!({"binary": {"always_ram": false}}))),
            QuantizationEffect::Active(QuantConfig::Binary { always_ram: false })
        );
        assert!(matches!(
            effect(Some(&json!({"binary": {"encoding": "two_bits"}}))),
            QuantizationEffect::NoEffect(r) if r.contains("two_bits")
        ));
        for (bits, want) in [
            ("bits1", RabitqBits::One),
            ("bits1_5", RabitqBits::OneAndHalf),
            ("bits2", RabitqBits::Two),
            ("bits4", RabitqBits::Four),
        ] {
            assert_eq!(
                effect(Some(&json!({"turbo": {"bits": bits}}))),
                QuantizationEffect::Active(QuantConfig::RaBitQ { bits: want, always_ram: true })
            );
        }
        assert_eq!(
            effect(Some(&json!({"turbo": {"always_ram": false}}))),
            QuantizationEffect::Active(QuantConfig::RaBitQ { bits: RabitqBits::Four, always_ram: false })
        );
        assert!(matches!(
            effect(Some(&json!({"turbo": {"bits": "bits3"}}))),
            QuantizationEffect::NoEffect(r) if r.contains("bits3")
        ));
        assert!(matches!(
            effect(Some(&json!({"product": {"compression": "x16"}}))),
            QuantizationEffect::NoEffect(r) if r.contains("product")
        ));
    }
}
