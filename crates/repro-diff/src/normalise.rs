//! Normalisations of a module: removing what does not change its code or data.

/// Keeps the 8-byte header and every non-custom section, drops custom sections.
pub fn strip_custom_sections(wasm: &[u8]) -> std::result::Result<Vec<u8>, String> {
    use wasmparser::{Parser, Payload};
    let mut out = Vec::with_capacity(wasm.len());
    out.extend_from_slice(
        wasm.get(..8)
            .ok_or("not a Wasm module: shorter than its header")?,
    );
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        if matches!(
            payload,
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. }
        ) {
            return Err("components are not supported".into());
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        if id == 0 {
            continue;
        }
        out.push(id);
        let mut n = range.len() as u64;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(&wasm[range]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_custom_sections() {
        // header, custom "a" (id 0), type section with one `() -> ()`, custom "b".
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[0, 3, 1, b'a', 9]);
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        m.extend_from_slice(&[0, 2, 1, b'b']);
        let s = strip_custom_sections(&m).unwrap();
        assert_eq!(s, b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00\x00");
    }
}
