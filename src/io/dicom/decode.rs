//! Pixel data to f32 intensities: decompression by dicom-pixeldata (pure Rust codecs),
//! then MONOCHROME1 inversion and the modality rescale done here, per frame.

use super::header::{FileHeader, header_from_object};
use super::{FrameRef, one_line};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{DecodedPixelData, PixelDecoder};
use rayon::prelude::*;

/// Decoded images of one file, each with its slot in the wanted list, or why it failed.
type FileResult = Result<Vec<(usize, Vec<f32>)>, String>;

/// Decodes the given frames (in order), calling `decoded(n)` as each file's `n` frames are
/// done. On failure returns every failing file with its reason.
pub fn decode_frames(
    headers: &[FileHeader],
    wanted: &[FrameRef],
    decoded: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Vec<f32>>, Vec<(usize, String)>> {
    let mut by_file: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, r) in wanted.iter().enumerate() {
        match by_file.last_mut() {
            Some((file, list)) if *file == r.0 => list.push(i),
            _ => by_file.push((r.0, vec![i])),
        }
    }
    let results: Vec<(usize, FileResult)> = by_file
        .par_iter()
        .map(|(file, slots)| {
            let h = &headers[*file];
            let frames: Vec<usize> = slots.iter().map(|&i| wanted[i].1).collect();
            // Checked again: the file may have changed since the header scan.
            let r = super::open_object(&h.path, false)
                .map_err(|e| format!("cannot read pixel data: {e}"))
                .and_then(|obj| decode_contained(&obj, h, &frames))
                .map(|imgs| slots.iter().copied().zip(imgs).collect());
            decoded(slots.len());
            (*file, r)
        })
        .collect();
    let mut out = vec![Vec::new(); wanted.len()];
    let mut failed = Vec::new();
    for (file, r) in results {
        match r {
            Ok(list) => list.into_iter().for_each(|(i, px)| out[i] = px),
            Err(reason) => failed.push((file, reason)),
        }
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(failed)
    }
}

/// Largest magnitude an intensity may have after the modality rescale. MR values are
/// stored in at most 32 bits and rescaled by small factors; beyond this the header is
/// broken.
const MAX_INTENSITY: f32 = 1e9;

const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// Checks RLE Lossless fragment headers (PS3.5 Annex G: a 64-byte header of at most 15
/// segment offsets, increasing, inside the fragment) before the codec sees them:
/// dicom-transfer-syntax-registry 0.10.1 allocates whatever segment count the header
/// claims (fuzzing found 16 GiB requests) and slices without bounds checks.
fn check_rle(obj: &DefaultDicomObject) -> Result<(), String> {
    let fragments = obj
        .get(tags::PIXEL_DATA)
        .and_then(|e| e.fragments())
        .ok_or("RLE pixel data is not encapsulated")?;
    for (i, f) in fragments.iter().enumerate() {
        let word = |k: usize| {
            f.get(4 * k..4 * k + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let bad = |why: &str| Err(format!("RLE fragment {i}: {why}"));
        let Some(n) = word(0) else {
            return bad("shorter than its header");
        };
        if !(1..=15).contains(&n) {
            return bad("segment count out of range");
        }
        let mut last = 64u32;
        for k in 1..=n as usize {
            match word(k) {
                Some(o) if o >= last && (o as usize) <= f.len() => last = o,
                _ => return bad("segment offsets out of order or past the fragment"),
            }
        }
    }
    Ok(())
}

/// Compressed streams whose own header states the image size.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Codec {
    Jpeg,
    Jpeg2000,
}

fn codec_kind(ts: &str) -> Option<Codec> {
    match ts {
        // Baseline, extended, lossless (processes 14 and 14 SV1), JPEG-LS.
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70"
        | "1.2.840.10008.1.2.4.80"
        | "1.2.840.10008.1.2.4.81" => Some(Codec::Jpeg),
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => Some(Codec::Jpeg2000),
        _ => None,
    }
}

/// Checks the image size each compressed frame's own header states against Rows,
/// Columns and one sample per pixel, before a codec sees it: the codecs allocate what
/// their frame header claims (a 119 KB file claiming 65535 x 65535 asked for 17 GB and
/// aborted the process, which `catch_unwind` cannot catch).
fn check_codec_frames(
    obj: &DefaultDicomObject,
    h: &FileHeader,
    codec: Codec,
) -> Result<(), String> {
    let fragments = obj
        .get(tags::PIXEL_DATA)
        .and_then(|e| e.fragments())
        .ok_or("compressed pixel data is not encapsulated")?;
    let mut frames = 0usize;
    for (i, f) in fragments.iter().enumerate() {
        let stated = match codec {
            Codec::Jpeg if f.starts_with(&[0xFF, 0xD8]) => jpeg_frame_size(f),
            Codec::Jpeg2000 if starts_j2k(f) => j2k_frame_size(f),
            // A continuation of the previous frame's stream.
            _ => continue,
        }
        .map_err(|e| format!("fragment {i}: {e}"))?;
        frames += 1;
        if stated != (h.rows, h.columns, 1) {
            return Err(format!(
                "fragment {i}: the compressed frame states {} x {} x {} samples, the header {} x {} x 1",
                stated.1, stated.0, stated.2, h.columns, h.rows
            ));
        }
    }
    if frames == 0 {
        return Err("no compressed frame starts with its codec's header".into());
    }
    Ok(())
}

/// (rows, columns, components) from a JPEG stream's SOF marker (ITU T.81 B.2.2; JPEG-LS
/// T.87 uses the same layout in its SOF55).
fn jpeg_frame_size(b: &[u8]) -> Result<(usize, usize, usize), String> {
    let mut at = 2;
    loop {
        // Fill bytes 0xFF may precede a marker.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(at), b.get(at + 1)) else {
            return Err("no frame header (SOF) before the scan".into());
        };
        let len = b
            .get(at + 2..at + 4)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
            .ok_or("truncated marker")?;
        let sof = matches!(marker, 0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC))
            || marker == 0xF7;
        if sof {
            let seg = b
                .get(at + 4..at + 2 + len)
                .filter(|s| s.len() >= 6)
                .ok_or("truncated frame header")?;
            let rows = u16::from_be_bytes([seg[1], seg[2]]) as usize;
            let columns = u16::from_be_bytes([seg[3], seg[4]]) as usize;
            return Ok((rows, columns, seg[5] as usize));
        }
        if marker == 0xDA || marker == 0xD9 {
            return Err("no frame header (SOF) before the scan".into());
        }
        at += 2 + len;
    }
}

fn starts_j2k(f: &[u8]) -> bool {
    f.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        || f.starts_with(&[0, 0, 0, 12, b'j', b'P', b' ', b' '])
}

/// (rows, columns, components) from a JPEG 2000 codestream's SIZ marker (ITU T.800
/// A.5.1), found directly or inside a JP2 file's contiguous codestream box.
fn j2k_frame_size(f: &[u8]) -> Result<(usize, usize, usize), String> {
    let at = f
        .windows(4)
        .take(1 << 16)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or("no JPEG 2000 codestream header (SOC, SIZ)")?;
    let siz = f.get(at + 4..at + 4 + 38).ok_or("truncated SIZ marker")?;
    let word = |k: usize| u32::from_be_bytes([siz[k], siz[k + 1], siz[k + 2], siz[k + 3]]) as u64;
    // Lsiz, Rsiz, then Xsiz, Ysiz, XOsiz, YOsiz.
    let (xsiz, ysiz, xo, yo) = (word(4), word(8), word(12), word(16));
    if xo >= xsiz || yo >= ysiz {
        return Err("SIZ marker states an empty image".into());
    }
    let components = u16::from_be_bytes([siz[36], siz[37]]) as usize;
    Ok(((ysiz - yo) as usize, (xsiz - xo) as usize, components))
}

/// [`decode_object`], with a panic inside a codec turned into an error for this file.
///
/// dicom-transfer-syntax-registry 0.10.1's RLE decoder indexes out of bounds when a
/// segment decodes short (found by fuzzing); a corrupt file must cost the user that
/// file, not the application.
pub fn decode_contained(
    obj: &DefaultDicomObject,
    h: &FileHeader,
    frames: &[usize],
) -> Result<Vec<Vec<f32>>, String> {
    IN_CODEC.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_object(obj, h, frames)
    }));
    IN_CODEC.with(|q| q.set(false));
    r.unwrap_or_else(|_| {
        Err("cannot decode pixel data: the codec failed on corrupt compressed data".into())
    })
}

thread_local! {
    /// Set while this thread runs a codec under `catch_unwind`.
    static IN_CODEC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps a codec panic that [`decode_contained`] catches off stderr (the file is reported
/// as skipped with its reason instead); every other panic is printed as before. Call once
/// at start-up.
pub fn quiet_contained_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_CODEC.with(|q| q.get()) {
            default(info);
        }
    }));
}

/// Decodes `frames` of an object whose header is `h`: one f32 image (rows x columns) each.
pub fn decode_object(
    obj: &DefaultDicomObject,
    h: &FileHeader,
    frames: &[usize],
) -> Result<Vec<Vec<f32>>, String> {
    if obj.get(tags::PIXEL_DATA).is_none() {
        return Err("no PixelData".into());
    }
    let ts = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']);
    if ts == RLE_LOSSLESS {
        check_rle(obj).map_err(|e| format!("cannot decode pixel data: {e}"))?;
    }
    if let Some(kind) = codec_kind(ts) {
        check_codec_frames(obj, h, kind).map_err(|e| format!("cannot decode pixel data: {e}"))?;
    }
    let decoded = obj
        .decode_pixel_data()
        .map_err(|e| format!("cannot decode pixel data: {}", one_line(&e)))?;
    if decoded.rows() as usize != h.rows
        || decoded.columns() as usize != h.columns
        || decoded.samples_per_pixel() != 1
    {
        return Err("decoded image size does not match the header".into());
    }
    let monochrome1 = decoded.photometric_interpretation().as_str() == "MONOCHROME1";
    let bits = decoded.bits_stored().clamp(1, 32) as u32;
    let signed = decoded.pixel_representation() == dicom_pixeldata::PixelRepresentation::Signed;
    // MONOCHROME1 shows low values bright: mirror stored values within their range.
    let mirror = if signed {
        -1.0
    } else {
        ((1u64 << bits) - 1) as f64
    };
    let n = h.rows * h.columns;
    frames
        .iter()
        .map(|&f| {
            let info = h.frames.get(f).ok_or_else(|| format!("frame {f} is not in the header"))?;
            if f as u32 >= decoded.number_of_frames() {
                return Err(format!("frame {f} is missing from the pixel data"));
            }
            let raw = stored_values(&decoded, f as u32, bits, signed)?;
            if raw.len() != n {
                return Err(format!("frame {f} holds {} pixels, expected {n}", raw.len()));
            }
            let (slope, intercept) = info.rescale;
            let img: Vec<f32> = raw
                .into_iter()
                .map(|v| {
                    let v = if monochrome1 { mirror - v as f64 } else { v as f64 };
                    (v * slope + intercept) as f32
                })
                .collect();
            // A broken rescale (an intercept of 1e308, say) must not reach the network or
            // the percentile normalisation of the whole phase.
            if img.iter().any(|v| !v.is_finite() || v.abs() > MAX_INTENSITY) {
                return Err(format!(
                    "frame {f}: intensities are not finite or beyond {MAX_INTENSITY:e} after the modality rescale (slope {slope}, intercept {intercept})"
                ));
            }
            Ok(img)
        })
        .collect()
}

/// Stored pixel values of one frame as f32: bits above BitsStored are masked off and
/// signed values sign-extended (PS3.5 8.1.1). dicom-pixeldata's own conversion does
/// neither for raw values and is several times slower here, as it fans every frame out
/// to the thread pool.
fn stored_values(
    decoded: &DecodedPixelData<'_>,
    frame: u32,
    bits: u32,
    signed: bool,
) -> Result<Vec<f32>, String> {
    let data = decoded
        .frame_data(frame)
        .map_err(|e| format!("frame {frame}: {}", one_line(&e)))?;
    let allocated = decoded.bits_allocated() as u32;
    let bits = bits.min(allocated);
    let extend = |v: u32| -> f32 {
        let v = if bits < 32 {
            v & ((1u32 << bits) - 1)
        } else {
            v
        };
        if signed && bits < 32 && v >> (bits - 1) & 1 == 1 {
            (v as i64 - (1i64 << bits)) as f32
        } else if signed {
            v as i32 as f32
        } else {
            v as f32
        }
    };
    match allocated {
        8 => Ok(data.iter().map(|&b| extend(b as u32)).collect()),
        16 => Ok(data
            .chunks_exact(2)
            .map(|b| extend(u16::from_ne_bytes([b[0], b[1]]) as u32))
            .collect()),
        32 => Ok(data
            .chunks_exact(4)
            .map(|b| extend(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])))
            .collect()),
        other => Err(format!("{other} bits allocated per pixel is not supported")),
    }
}

/// Parses a DICOM file held in memory and decodes all its frames: the path a fuzzer
/// drives, and the same code the folder loader uses.
pub fn read_image_bytes(bytes: &[u8]) -> Result<(FileHeader, Vec<Vec<f32>>), String> {
    let framing = super::guard::check(std::io::Cursor::new(bytes), bytes.len() as u64)?;
    let obj = match framing {
        super::guard::Framing::File => {
            // from_reader expects the stream to start at "DICM", after any preamble.
            let body = if bytes.get(128..132) == Some(b"DICM") {
                &bytes[128..]
            } else {
                bytes
            };
            OpenFileOptions::new()
                .from_reader(body)
                .map_err(|e| one_line(&e))?
        }
        super::guard::Framing::Bare { explicit } => super::bare_object(bytes, explicit)?,
    };
    let h = header_from_object(&obj, std::path::PathBuf::from("<memory>"))?;
    // Bound the work a hostile header can ask for.
    if h.rows
        .saturating_mul(h.columns)
        .saturating_mul(h.frames.len())
        > 1 << 26
    {
        return Err("image is too large".into());
    }
    let frames: Vec<usize> = (0..h.frames.len()).collect();
    let px = decode_contained(&obj, &h, &frames)?;
    Ok((h, px))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_frame_size_is_read_from_the_sof_after_other_markers() {
        // SOI, APP0 of 4 bytes, fill byte, SOF1 (P 12, Y 300, X 260, Nf 1), SOS.
        let b = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xFF, 0xC1, 0, 11, 12, 0x01, 0x2C, 0x01,
            0x04, 1, 1, 0x11, 0, 0xFF, 0xDA,
        ];
        assert_eq!(jpeg_frame_size(&b), Ok((300, 260, 1)));
        // A scan before any frame header, and a truncated one.
        assert!(jpeg_frame_size(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]).is_err());
        assert!(jpeg_frame_size(&b[..14]).is_err());
    }

    #[test]
    fn j2k_frame_size_is_read_from_siz_minus_the_image_offset() {
        // SOC, SIZ: Lsiz 41, Rsiz 0, Xsiz 266, Ysiz 310, XOsiz 10, YOsiz 10, tiles, Csiz 1.
        let mut b = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0];
        for v in [266u32, 310, 10, 10, 256, 300, 0, 0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&[0, 1, 15, 1, 1]);
        assert!(starts_j2k(&b));
        assert_eq!(j2k_frame_size(&b), Ok((300, 256, 1)));
        // Inside a JP2 wrapper the codestream is found after the boxes.
        let mut jp2 = vec![0, 0, 0, 12, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A];
        jp2.extend_from_slice(&b);
        assert!(starts_j2k(&jp2));
        assert_eq!(j2k_frame_size(&jp2), Ok((300, 256, 1)));
        assert!(j2k_frame_size(&b[..20]).is_err());
    }
}
