//! A structural pre-check of a DICOM file's element lengths, run before dicom-rs parses it.
//!
//! dicom-parser allocates each value at its declared length before reading it, so a
//! corrupt length field (up to 4 GiB) costs that much memory even though the read then
//! fails (found by fuzzing). This walk reads only element headers, seeks past values, and
//! refuses any value that would run past the end of the file or of its enclosing item,
//! and nesting deeper than [`MAX_DEPTH`].

use dicom_core::Tag;
use dicom_core::VR;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::StandardDataDictionary;
use std::io::{BufRead, Read, Seek};

const MAX_DEPTH: u32 = 32;
const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQ_END: (u16, u16) = (0xFFFE, 0xE0DD);

#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    ExplicitLe,
    ImplicitLe,
    ExplicitBe,
}

struct Walker<R> {
    r: std::io::BufReader<R>,
    pos: u64,
    /// The stream's length is not known in advance (an inflating stream): the top-level
    /// data set ends where the stream does.
    open_end: bool,
}

/// A forward-only stream (an inflating decoder) that "seeks" ahead by reading and
/// discarding, so that the walk holds no more than its buffer.
struct Forward<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Forward<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let ahead = match to {
            std::io::SeekFrom::Current(n) if n >= 0 => n as u64,
            std::io::SeekFrom::Start(p) if p >= self.pos => p - self.pos,
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "cannot seek back in an inflating stream",
                ));
            }
        };
        let skipped = std::io::copy(&mut (&mut *self).take(ahead), &mut std::io::sink())?;
        if skipped < ahead {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(self.pos)
    }
}

type Check<T = ()> = Result<T, String>;

/// An element header: (group, element), explicit VR if the syntax has one, length.
type ElementHeader = ((u16, u16), Option<[u8; 2]>, u32);

impl<R: Read + Seek> Walker<R> {
    fn bytes<const N: usize>(&mut self) -> Check<[u8; N]> {
        let mut b = [0u8; N];
        self.r
            .read_exact(&mut b)
            .map_err(|e| format!("truncated at byte {}: {e}", self.pos))?;
        self.pos += N as u64;
        Ok(b)
    }

    fn vec(&mut self, n: usize) -> Check<Vec<u8>> {
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|e| format!("truncated at byte {}: {e}", self.pos))?;
        self.pos += n as u64;
        Ok(b)
    }

    fn u16(&mut self, be: bool) -> Check<u16> {
        let b = self.bytes::<2>()?;
        Ok(if be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self, be: bool) -> Check<u32> {
        let b = self.bytes::<4>()?;
        Ok(if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn skip(&mut self, n: u64, end: u64) -> Check {
        if self.pos + n > end {
            return Err(format!(
                "value of {n} bytes at byte {} runs past its end ({end})",
                self.pos
            ));
        }
        // seek_relative keeps the buffer when the target is inside it.
        self.r.seek_relative(n as i64).map_err(|e| e.to_string())?;
        self.pos += n;
        Ok(())
    }

    /// Element header: (tag, explicit VR if any, length).
    fn header(&mut self, syntax: Syntax) -> Check<ElementHeader> {
        let be = syntax == Syntax::ExplicitBe;
        let tag = (self.u16(be)?, self.u16(be)?);
        if tag.0 == 0xFFFE || syntax == Syntax::ImplicitLe {
            return Ok((tag, None, self.u32(be)?));
        }
        let vr = self.bytes::<2>()?;
        // PS3.5 7.1.2: these VRs have a 16-bit length; every other one, and any VR
        // that is not a known code (read as UN, as dicom-parser does), a 32-bit length.
        let short = matches!(
            &vr,
            b"AE"
                | b"AS"
                | b"AT"
                | b"CS"
                | b"DA"
                | b"DS"
                | b"DT"
                | b"FL"
                | b"FD"
                | b"IS"
                | b"LO"
                | b"LT"
                | b"PN"
                | b"SH"
                | b"SL"
                | b"SS"
                | b"ST"
                | b"TM"
                | b"UI"
                | b"UL"
                | b"US"
        );
        let len = if !short {
            self.bytes::<2>()?;
            self.u32(be)?
        } else {
            self.u16(be)? as u32
        };
        Ok((tag, Some(vr), len))
    }

    /// Walks a data set up to `end` (defined length) or up to an item delimiter.
    fn dataset(&mut self, syntax: Syntax, end: u64, delimited: bool, depth: u32) -> Check {
        if depth > MAX_DEPTH {
            return Err("sequences nested too deep".into());
        }
        while self.pos < end {
            if self.open_end
                && depth == 0
                && self.r.fill_buf().map_err(|e| e.to_string())?.is_empty()
            {
                return Ok(());
            }
            let (tag, vr, len) = self.header(syntax)?;
            if tag == ITEM_END && delimited {
                return Ok(());
            }
            // The VR as dicom-parser resolves it: explicit, else from the dictionary.
            let vr = match vr {
                Some(v) => VR::from_binary(v).unwrap_or(VR::UN),
                None => StandardDataDictionary
                    .by_tag(Tag(tag.0, tag.1))
                    .map_or(VR::UN, |e| e.vr().relaxed()),
            };
            let is_sq = vr == VR::SQ;
            // dicom-parser reads len / size whole numbers but advances its position by
            // len, so a binary value whose length is not a multiple of its size throws
            // its view of the stream out of step with the bytes (fourth fuzz finding).
            let size = binary_size(vr);
            if len != UNDEFINED && len as usize % size != 0 {
                return Err(format!(
                    "({:04X},{:04X}) {vr:?} value of {len} bytes is not a whole number of values",
                    tag.0, tag.1
                ));
            }
            if len == UNDEFINED {
                // Encapsulated pixel data holds opaque fragments; any other element of
                // undefined length is read as a sequence of data sets (as dicom-parser does).
                let fragments = tag == (0x7FE0, 0x0010);
                self.items(syntax, end, fragments, depth + 1)?;
            } else if is_sq {
                let inner = self.pos + len as u64;
                if inner > end {
                    return Err(format!(
                        "sequence of {len} bytes at byte {} runs past its end",
                        self.pos
                    ));
                }
                self.sequence_defined(syntax, inner, depth + 1)?;
            } else {
                self.skip(len as u64, end).map_err(|e| {
                    let name = if tag == (0x7FE0, 0x0010) {
                        "PixelData "
                    } else {
                        ""
                    };
                    format!("{name}({:04X},{:04X}): {e}; truncated file?", tag.0, tag.1)
                })?;
            }
        }
        if delimited {
            return Err("item without its delimiter".into());
        }
        Ok(())
    }

    fn sequence_defined(&mut self, syntax: Syntax, end: u64, depth: u32) -> Check {
        while self.pos < end {
            let (tag, _, len) = self.header(Syntax::ImplicitLe.min_with(syntax))?;
            if tag != ITEM {
                return Err(format!("expected an item at byte {}", self.pos));
            }
            self.item(syntax, len, end, false, depth)?;
        }
        Ok(())
    }

    /// Items (or fragments) up to the sequence delimiter.
    fn items(&mut self, syntax: Syntax, end: u64, fragments: bool, depth: u32) -> Check {
        loop {
            let (tag, _, len) = self.header(Syntax::ImplicitLe.min_with(syntax))?;
            match tag {
                SEQ_END => return Ok(()),
                ITEM => self.item(syntax, len, end, fragments, depth)?,
                _ => {
                    return Err(format!(
                        "expected an item or sequence end at byte {}",
                        self.pos
                    ));
                }
            }
        }
    }

    fn item(&mut self, syntax: Syntax, len: u32, end: u64, fragment: bool, depth: u32) -> Check {
        if len == UNDEFINED {
            if fragment {
                return Err("pixel data fragment of undefined length".into());
            }
            return self.dataset(syntax, end, true, depth);
        }
        let inner = self.pos + len as u64;
        if inner > end {
            return Err(format!(
                "item of {len} bytes at byte {} runs past its end",
                self.pos
            ));
        }
        if fragment {
            // A compressed frame (or the offset table): opaque bytes.
            return self.skip(len as u64, inner);
        }
        // A data set whose elements must all end inside the item: the parser reads them
        // by their own lengths, whatever the item claims.
        self.dataset(syntax, inner, false, depth)
    }
}

/// Bytes per value of a binary VR (1 for byte strings and text).
fn binary_size(vr: VR) -> usize {
    match vr {
        VR::US | VR::SS | VR::OW => 2,
        VR::AT | VR::FL | VR::OF | VR::OL | VR::SL | VR::UL => 4,
        VR::FD | VR::OD | VR::OV | VR::SV | VR::UV => 8,
        _ => 1,
    }
}

impl Syntax {
    /// Item tags and lengths keep the byte order of the data set.
    fn min_with(self, s: Syntax) -> Syntax {
        if s == Syntax::ExplicitBe {
            Syntax::ExplicitBe
        } else {
            self
        }
    }
}

/// How a stream that passed [`check`] is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Preamble (or not), "DICM" and a file meta group: a DICOM file (PS3.10).
    File,
    /// A bare data set from byte 0, no meta group (old ACR-NEMA style exports), in
    /// implicit (`explicit == false`) or explicit VR little endian.
    Bare { explicit: bool },
}

/// A deflated data set is inflated (and its lengths checked) up to this size: a DICOM
/// file of a cine of 30 frames of 512 x 512 x 16 bits is 15 MiB.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;

const DEFLATED: &str = "1.2.840.10008.1.2.1.99";

/// Checks the element lengths of a DICOM stream of `total` bytes: a DICOM file (with or
/// without the 128-byte preamble) or a bare data set without meta group whose first
/// element is of group 0008 (ACR-NEMA style). A deflated data set is inflated, at most
/// [`MAX_INFLATED_BYTES`], and checked like any other.
pub fn check<R: Read + Seek>(mut r: R, total: u64) -> Result<Framing, String> {
    let mut head = Vec::with_capacity(132);
    (&mut r)
        .take(132)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    r.seek(std::io::SeekFrom::Start(0))
        .map_err(|e| e.to_string())?;
    let dicm_at = if head.starts_with(b"DICM") {
        Some(4)
    } else if head.get(128..132) == Some(b"DICM") {
        Some(132)
    } else {
        None
    };
    let mut w = Walker {
        r: std::io::BufReader::with_capacity(16 * 1024, r),
        pos: 0,
        open_end: false,
    };
    let Some(start) = dicm_at else {
        let explicit = bare_data_set(&head).ok_or_else(|| {
            if head.len() < 8 {
                "too short for a DICOM file".to_string()
            } else {
                "no DICM magic, and not a bare data set (its first element is not of group 0008)"
                    .to_string()
            }
        })?;
        let syntax = if explicit {
            Syntax::ExplicitLe
        } else {
            Syntax::ImplicitLe
        };
        w.dataset(syntax, total, false, 0)?;
        return Ok(Framing::Bare { explicit });
    };
    w.skip(start, total)?;
    // File meta group, as dicom-object reads it: (0002,0000) group length first, then
    // explicit VR little endian elements of any group until that many bytes are consumed
    // (sixth fuzz finding: an off-group element inside the meta group moved the data set).
    let (tag, _, len) = w.header(Syntax::ExplicitLe)?;
    if tag != (0x0002, 0x0000) || len != 4 {
        return Err("the file meta group does not start with its group length".into());
    }
    let group_length = w.u32(false)? as u64;
    let mut ts = String::new();
    let mut consumed = 0u64;
    while consumed < group_length {
        let start = w.pos;
        let (tag, _, len) = w.header(Syntax::ExplicitLe)?;
        if len == UNDEFINED {
            return Err("file meta element of undefined length".into());
        }
        if tag == (0x0002, 0x0010) && len <= 64 {
            let b = w.vec(len as usize)?;
            ts = String::from_utf8_lossy(&b)
                .trim_end_matches(['\0', ' '])
                .to_string();
        } else {
            w.skip(len as u64, total)?;
        }
        consumed += w.pos - start;
    }
    let syntax = match ts.as_str() {
        "1.2.840.10008.1.2" => Syntax::ImplicitLe,
        "1.2.840.10008.1.2.2" => Syntax::ExplicitBe,
        DEFLATED => return check_deflated(w.r).map(|_| Framing::File),
        "1.2.840.10008.1.2.4.95" => return Ok(Framing::File),
        _ => Syntax::ExplicitLe,
    };
    w.dataset(syntax, total, false, 0)?;
    Ok(Framing::File)
}

/// Walks a deflated data set (raw deflate, PS3.5 A.5) as it inflates, holding no more
/// than a buffer, and refuses one that inflates beyond [`MAX_INFLATED_BYTES`]: inside, an
/// element may claim any length (a 4.5 KB file once asked dicom-parser for 3.8 GB).
fn check_deflated(r: impl Read) -> Check {
    let mut w = Walker {
        r: std::io::BufReader::with_capacity(
            16 * 1024,
            Forward {
                inner: flate2::read::DeflateDecoder::new(r),
                pos: 0,
            },
        ),
        pos: 0,
        open_end: true,
    };
    w.dataset(Syntax::ExplicitLe, MAX_INFLATED_BYTES, false, 0)
        .map_err(|e| {
            format!(
                "in the deflated data set (at most {} MiB): {e}",
                MAX_INFLATED_BYTES >> 20
            )
        })
}

/// Whether `head` starts a bare data set (no preamble, no meta group): its first element
/// is of group 0008, as in ACR-NEMA files and their DICOM descendants. Returns whether
/// its VRs are explicit.
fn bare_data_set(head: &[u8]) -> Option<bool> {
    let group = u16::from_le_bytes([*head.first()?, *head.get(1)?]);
    if group != 0x0008 {
        return None;
    }
    let vr = [*head.get(4)?, *head.get(5)?];
    Some(vr.iter().all(u8::is_ascii_uppercase) && VR::from_binary(vr).is_some())
}

/// [`check`] on a file.
pub fn check_file(path: &std::path::Path) -> Result<Framing, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let total = f.metadata().map_err(|e| e.to_string())?.len();
    check(f, total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn explicit(elements: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        let ts = b"1.2.840.10008.1.2.1\0";
        let group_length = 8 + ts.len() as u8;
        b.extend_from_slice(&[
            0x02,
            0x00,
            0x00,
            0x00,
            b'U',
            b'L',
            4,
            0,
            group_length,
            0,
            0,
            0,
        ]);
        b.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', ts.len() as u8, 0]);
        b.extend_from_slice(ts);
        b.extend_from_slice(elements);
        b
    }

    #[test]
    fn honest_lengths_pass() {
        // (0010,0020) LO "ID01", (0008,1115) SQ undefined with one undefined item holding
        // (0020,0013) IS "1 ", then PixelData OW of 4 bytes.
        let mut e = vec![
            0x10, 0x00, 0x20, 0x00, b'L', b'O', 4, 0, b'I', b'D', b'0', b'1',
        ];
        e.extend_from_slice(&[
            0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        e.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        e.extend_from_slice(&[0x20, 0x00, 0x13, 0x00, b'I', b'S', 2, 0, b'1', b' ']);
        e.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        e.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        e.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
        ]);
        let b = explicit(&e);
        assert_eq!(check(Cursor::new(&b), b.len() as u64), Ok(Framing::File));
    }

    #[test]
    fn a_length_past_the_end_is_refused() {
        // PixelData claiming 4 GiB - 2 in a file of a few hundred bytes.
        let e = [
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4,
        ];
        let b = explicit(&e);
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
    }

    #[test]
    fn an_unknown_vr_has_a_long_length_as_in_dicom_parser() {
        // VR "Q\0" is no VR code: 2 reserved bytes, then a 32-bit length of 0xFE000000.
        let e = [
            0x00, 0x52, 0x30, 0x92, b'Q', 0, 0, 0x08, 0, 0, 0, 0xFE, 0, 0, 0, 0,
        ];
        let b = explicit(&e);
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
    }

    #[test]
    fn lengths_inside_a_defined_length_item_are_checked() {
        // (0008,1110) SQ of 20 bytes: one item of 12 bytes holding (0008,1150) UI whose
        // 16-bit length (0xFFFF) runs far past the item.
        let mut e = vec![0x08, 0x00, 0x10, 0x11, b'S', b'Q', 0, 0, 20, 0, 0, 0];
        e.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 12, 0, 0, 0]);
        e.extend_from_slice(&[
            0x08, 0x00, 0x50, 0x11, b'U', b'I', 0xFF, 0xFF, b'1', b'.', b'2', 0,
        ]);
        let b = explicit(&e);
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
    }

    #[test]
    fn a_binary_value_of_ragged_length_is_refused() {
        // (0008,1111) OV of 12 bytes: dicom-parser would read 8 and lose step by 4.
        let mut e = vec![0x08, 0x00, 0x11, 0x11, b'O', b'V', 0, 0, 12, 0, 0, 0];
        e.extend_from_slice(&[0; 12]);
        let b = explicit(&e);
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
        let mut ok = vec![0x08, 0x00, 0x11, 0x11, b'O', b'V', 0, 0, 16, 0, 0, 0];
        ok.extend_from_slice(&[0; 16]);
        let b = explicit(&ok);
        assert_eq!(check(Cursor::new(&b), b.len() as u64), Ok(Framing::File));
    }

    #[test]
    fn the_meta_group_ends_where_its_group_length_says() {
        // Group length 12 covers an off-group element (0102,0002) OB of 0 bytes; the data
        // set then starts with a PixelData claiming 4 GiB - 2.
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        b.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0, 12, 0, 0, 0]);
        b.extend_from_slice(&[0x02, 0x01, 0x02, 0x00, b'O', b'B', 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0xFE, 0xFF, 0xFF, 0xFF,
        ]);
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
        // Without a group length first, it is not a DICOM file we read.
        let mut c = vec![0u8; 128];
        c.extend_from_slice(b"DICM");
        c.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I', 2, 0, b'1', 0]);
        assert!(check(Cursor::new(&c), c.len() as u64).is_err());
    }

    #[test]
    fn not_dicom_is_refused() {
        let b = b"hello, this is not a DICOM file".to_vec();
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
    }

    /// `explicit(elements)` with the transfer syntax switched to deflated explicit VR
    /// little endian (same length, so the meta group length holds) and the data set
    /// deflated.
    fn deflated(elements: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut b = deflated_meta();
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(elements).unwrap();
        b.extend_from_slice(&z.finish().unwrap());
        b
    }

    /// Preamble and meta group of [`deflated`].
    fn deflated_meta() -> Vec<u8> {
        let mut b = explicit(&[]);
        let ts = b"1.2.840.10008.1.2.1\0";
        let at = b.len() - ts.len();
        b.truncate(at);
        b.extend_from_slice(b"1.2.840.10008.1.2.1.99");
        // The UI value grew by 2: its 16-bit length and the group length follow it.
        let ui_len = at - 2;
        b[ui_len] = 22;
        b[140] += 2;
        b
    }

    #[test]
    fn lengths_inside_a_deflated_data_set_are_checked() {
        // PixelData claiming 4 GiB - 2 inside a deflated data set of a few bytes.
        let bomb = [
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4,
        ];
        let b = deflated(&bomb);
        let err = check(Cursor::new(&b), b.len() as u64).unwrap_err();
        assert!(err.contains("PixelData"), "{err}");
        let honest = [
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
        ];
        let b = deflated(&honest);
        assert_eq!(check(Cursor::new(&b), b.len() as u64), Ok(Framing::File));
    }

    #[test]
    fn a_deflated_data_set_is_inflated_only_so_far() {
        // Three honest OB values of 100 MiB each: a few hundred KB deflated, 300 MiB
        // inflated. The walk streams them and stops past 256 MiB.
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![0u8; 1 << 20];
        for e in 0..3u8 {
            z.write_all(&[0x09, 0x00, 0x10 + e, 0x10, b'O', b'B', 0, 0])
                .unwrap();
            z.write_all(&(100u32 << 20).to_le_bytes()).unwrap();
            for _ in 0..100 {
                z.write_all(&chunk).unwrap();
            }
        }
        let mut b = deflated_meta();
        b.extend_from_slice(&z.finish().unwrap());
        let err = check(Cursor::new(&b), b.len() as u64).unwrap_err();
        assert!(err.contains("at most 256 MiB"), "{err}");
    }

    #[test]
    fn a_bare_data_set_is_recognised_by_its_first_group() {
        // Implicit VR: (0008,0060) CS "MR", PixelData of 4 bytes.
        let mut b = vec![0x08, 0x00, 0x60, 0x00, 2, 0, 0, 0, b'M', b'R'];
        b.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, 4, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(
            check(Cursor::new(&b), b.len() as u64),
            Ok(Framing::Bare { explicit: false })
        );
        // Explicit VR.
        let mut e = vec![0x08, 0x00, 0x60, 0x00, b'C', b'S', 2, 0, b'M', b'R'];
        e.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
        ]);
        assert_eq!(
            check(Cursor::new(&e), e.len() as u64),
            Ok(Framing::Bare { explicit: true })
        );
        // The same walk: a length past the end is refused.
        b[4] = 200;
        assert!(check(Cursor::new(&b), b.len() as u64).is_err());
    }
}
