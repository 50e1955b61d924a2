//! NIfTI-1 volumes (.nii and .nii.gz), read and written without resampling.
//!
//! The voxel order is kept exactly as stored: index i (fastest) is the image column,
//! j the row, k the slice and t the phase. A label map written back from a study lines
//! up voxel for voxel with the image it came from.

use super::{Error, Result, write_atomic};
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, Read};
use std::path::Path;

const HEADER_LEN: usize = 348;
/// Refuse volumes above this many voxels: 2^28 f32 voxels are 1 GiB, more than a cine of
/// 40 phases x 25 slices x 512 x 512 (ACDC's largest is under 2^24).
const MAX_VOXELS: usize = 1 << 28;

/// A NIfTI volume with intensities scaled by scl_slope/scl_inter.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiVolume {
    /// (x, y, z, t) extents; missing dimensions are 1.
    pub dims: [usize; 4],
    /// Voxel-to-world affine in NIfTI RAS mm (3 rows of 4).
    pub affine_ras: [[f64; 4]; 3],
    /// Time step between volumes in ms, if the header states one.
    pub time_step_ms: Option<f64>,
    pub data: Vec<f32>,
}

/// Voxel types this reader and writer use.
#[derive(Debug, Clone, Copy)]
pub enum Voxels<'a> {
    U8(&'a [u8]),
    I16(&'a [i16]),
    F32(&'a [f32]),
}

struct Header {
    big_endian: bool,
    dims: [usize; 4],
    datatype: i16,
    pixdim: [f32; 8],
    vox_offset: usize,
    slope: f32,
    inter: f32,
    xyzt_units: u8,
    affine_ras: [[f64; 4]; 3],
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Nifti {
        reason: reason.into(),
        path: path.to_path_buf(),
    }
}

/// Reads a whole .nii or .nii.gz file (gzip detected from its magic bytes).
///
/// The file is streamed: the header first, then exactly the voxels it declares, converted
/// to f32 as they arrive. A gzip stream is never inflated beyond what the header needs
/// (a small file that inflates to gigabytes costs no more than the volume it declares),
/// and no buffer holds the raw voxels beside the f32 ones.
pub fn read(path: &Path) -> Result<NiftiVolume> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut raw = std::io::BufReader::new(file);
    let gz = raw
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    let r = if gz {
        read_from(MultiGzDecoder::new(raw))
    } else {
        read_from(raw)
    };
    r.map_err(|reason| bad(path, reason))
}

/// Parses NIfTI-1 bytes (already decompressed).
pub fn parse(bytes: &[u8]) -> std::result::Result<NiftiVolume, String> {
    read_from(bytes)
}

/// Reads an uncompressed NIfTI-1 stream: header, then the declared voxels.
fn read_from(mut r: impl Read) -> std::result::Result<NiftiVolume, String> {
    let mut head = Vec::with_capacity(HEADER_LEN);
    (&mut r)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut head)
        .map_err(stream_error)?;
    let h = parse_header(&head)?;
    let n = h
        .dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("dimensions overflow")?;
    if n == 0 || n > MAX_VOXELS {
        return Err(format!(
            "unsupported voxel count {n} (at most {MAX_VOXELS})"
        ));
    }
    let size = match h.datatype {
        2 | 256 => 1,
        4 | 512 => 2,
        8 | 16 | 768 => 4,
        64 => 8,
        other => return Err(format!("unsupported NIfTI datatype {other}")),
    };
    let need = n.checked_mul(size).ok_or("size overflow")?;
    // Extensions between the header and the voxels.
    let gap = (h.vox_offset - HEADER_LEN) as u64;
    let skipped =
        std::io::copy(&mut (&mut r).take(gap), &mut std::io::sink()).map_err(stream_error)?;
    if skipped < gap {
        return Err(format!(
            "file ends inside the header extensions (voxels start at byte {})",
            h.vox_offset
        ));
    }
    let be = h.big_endian;
    let conv: fn(&[u8], bool) -> f32 = match h.datatype {
        2 => |b, _| b[0] as f32,
        256 => |b, _| b[0] as i8 as f32,
        4 => |b, be| i16_at(b, be) as f32,
        512 => |b, be| i16_at(b, be) as u16 as f32,
        8 => |b, be| i32_at(b, be) as f32,
        768 => |b, be| i32_at(b, be) as u32 as f32,
        16 => |b, be| f32::from_bits(i32_at(b, be) as u32),
        _ => |b, be| {
            let a: [u8; 8] = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
            (if be {
                f64::from_be_bytes(a)
            } else {
                f64::from_le_bytes(a)
            }) as f32
        },
    };
    // scl_slope 0 means "no scaling" (NIfTI-1 standard).
    let (slope, inter) = if h.slope == 0.0 || !h.slope.is_finite() {
        (1.0, 0.0)
    } else {
        (h.slope, h.inter)
    };
    let scaled = slope != 1.0 || inter != 0.0;
    // Grows with the voxels that actually arrive: a header that lies about its size costs
    // only what the stream holds.
    let mut data: Vec<f32> = Vec::with_capacity(n.min(CHUNK_BYTES / 4));
    let mut chunk = vec![0u8; CHUNK_BYTES - CHUNK_BYTES % size];
    let mut body = (&mut r).take(need as u64);
    let mut filled = 0usize;
    loop {
        let got = body.read(&mut chunk[filled..]).map_err(stream_error)?;
        filled += got;
        if got == 0 || filled == chunk.len() {
            let whole = filled - filled % size;
            data.extend(chunk[..whole].chunks_exact(size).map(|c| {
                let v = conv(c, be);
                if scaled { v * slope + inter } else { v }
            }));
            chunk.copy_within(whole..filled, 0);
            filled -= whole;
        }
        if got == 0 {
            break;
        }
    }
    if data.len() != n {
        return Err(format!(
            "file holds {} bytes of voxels, header needs {need}",
            data.len() * size + filled
        ));
    }
    let time_step_ms = match h.xyzt_units & 0x38 {
        8 => Some(h.pixdim[4] as f64 * 1000.0),
        16 => Some(h.pixdim[4] as f64),
        24 => Some(h.pixdim[4] as f64 / 1000.0),
        _ => None,
    }
    .filter(|t| t.is_finite() && *t > 0.0);
    Ok(NiftiVolume {
        dims: h.dims,
        affine_ras: h.affine_ras,
        time_step_ms,
        data,
    })
}

/// Bytes converted per step while streaming voxels.
const CHUNK_BYTES: usize = 1 << 20;

fn stream_error(e: std::io::Error) -> String {
    format!("cannot read the stream (a broken gzip stream?): {e}")
}

fn i16_at(b: &[u8], be: bool) -> i16 {
    let a = [b[0], b[1]];
    if be {
        i16::from_be_bytes(a)
    } else {
        i16::from_le_bytes(a)
    }
}

fn i32_at(b: &[u8], be: bool) -> i32 {
    let a = [b[0], b[1], b[2], b[3]];
    if be {
        i32::from_be_bytes(a)
    } else {
        i32::from_le_bytes(a)
    }
}

fn f32_at(b: &[u8], off: usize, be: bool) -> f32 {
    f32::from_bits(i32_at(&b[off..off + 4], be) as u32)
}

fn parse_header(b: &[u8]) -> std::result::Result<Header, String> {
    if b.len() < HEADER_LEN {
        return Err(format!(
            "file is {} bytes, shorter than a NIfTI-1 header",
            b.len()
        ));
    }
    let big_endian = match (i32_at(b, false), i32_at(b, true)) {
        (348, _) => false,
        (_, 348) => true,
        (540, _) | (_, 540) => return Err("NIfTI-2 files are not supported yet".into()),
        _ => return Err("not a NIfTI-1 file (sizeof_hdr is not 348)".into()),
    };
    let be = big_endian;
    if &b[344..347] != b"n+1" && &b[344..347] != b"ni1" {
        return Err("NIfTI magic is missing".into());
    }
    if &b[344..347] == b"ni1" {
        return Err("two-file NIfTI (.hdr/.img) is not supported".into());
    }
    let dim: Vec<i16> = (0..8).map(|i| i16_at(&b[40 + 2 * i..], be)).collect();
    let ndim = dim[0];
    if !(1..=7).contains(&ndim) {
        return Err(format!("dim[0] = {ndim} is out of range"));
    }
    let mut dims = [1usize; 4];
    for (i, d) in dim[1..=ndim as usize].iter().enumerate() {
        if *d < 1 {
            return Err(format!("dim[{}] = {d} is not positive", i + 1));
        }
        if i < 4 {
            dims[i] = *d as usize;
        } else if *d != 1 {
            return Err("5-D and higher volumes are not supported".into());
        }
    }
    let pixdim: [f32; 8] = std::array::from_fn(|i| f32_at(b, 76 + 4 * i, be));
    let vox_offset = f32_at(b, 108, be);
    if !(vox_offset.is_finite() && vox_offset >= HEADER_LEN as f32) {
        return Err(format!("vox_offset {vox_offset} is invalid"));
    }
    let qform_code = i16_at(&b[252..], be);
    let sform_code = i16_at(&b[254..], be);
    let affine_ras = if sform_code > 0 {
        std::array::from_fn(|r| std::array::from_fn(|c| f32_at(b, 280 + 16 * r + 4 * c, be) as f64))
    } else if qform_code > 0 {
        let q: [f64; 6] = std::array::from_fn(|i| f32_at(b, 256 + 4 * i, be) as f64);
        quaternion_affine(q, pixdim)
    } else {
        let p = |i: usize| pixdim[i].abs() as f64;
        [
            [p(1), 0.0, 0.0, 0.0],
            [0.0, p(2), 0.0, 0.0],
            [0.0, 0.0, p(3), 0.0],
        ]
    };
    if affine_ras.iter().flatten().any(|v| !v.is_finite()) {
        return Err("affine has non-finite values".into());
    }
    Ok(Header {
        big_endian,
        dims,
        datatype: i16_at(&b[70..], be),
        pixdim,
        vox_offset: vox_offset as usize,
        slope: f32_at(b, 112, be),
        inter: f32_at(b, 116, be),
        xyzt_units: b[123],
        affine_ras,
    })
}

/// The qform affine (NIfTI-1 standard, method 2).
fn quaternion_affine(q: [f64; 6], pixdim: [f32; 8]) -> [[f64; 4]; 3] {
    let [qb, qc, qd, qx, qy, qz] = q;
    let qa = (1.0 - (qb * qb + qc * qc + qd * qd)).max(0.0).sqrt();
    let qfac = if pixdim[0] < 0.0 { -1.0 } else { 1.0 };
    let r = [
        [
            qa * qa + qb * qb - qc * qc - qd * qd,
            2.0 * (qb * qc - qa * qd),
            2.0 * (qb * qd + qa * qc),
        ],
        [
            2.0 * (qb * qc + qa * qd),
            qa * qa + qc * qc - qb * qb - qd * qd,
            2.0 * (qc * qd - qa * qb),
        ],
        [
            2.0 * (qb * qd - qa * qc),
            2.0 * (qc * qd + qa * qb),
            qa * qa + qd * qd - qc * qc - qb * qb,
        ],
    ];
    let s = [
        pixdim[1].abs() as f64,
        pixdim[2].abs() as f64,
        pixdim[3].abs() as f64 * qfac,
    ];
    let off = [qx, qy, qz];
    std::array::from_fn(|row| {
        [
            r[row][0] * s[0],
            r[row][1] * s[1],
            r[row][2] * s[2],
            off[row],
        ]
    })
}

/// Writes a NIfTI-1 file (gzip-compressed if the name ends in .gz) atomically: a
/// temporary file beside the target is renamed over it, so a failure leaves no half file.
pub fn write(
    path: &Path,
    dims: [usize; 4],
    affine_ras: &[[f64; 4]; 3],
    voxels: Voxels<'_>,
) -> Result<()> {
    let bytes = encode(dims, affine_ras, voxels).map_err(|reason| bad(path, reason))?;
    let is_gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let out = if is_gz {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&bytes)
            .and_then(|_| enc.finish())
            .map_err(|e| Error::io(path, e))?
    } else {
        bytes
    };
    write_atomic(path, &out)
}

/// Encodes an uncompressed single-file NIfTI-1 (little-endian, sform and qform unset but
/// sform_code 2 "aligned" with the given affine).
pub fn encode(
    dims: [usize; 4],
    affine_ras: &[[f64; 4]; 3],
    voxels: Voxels<'_>,
) -> std::result::Result<Vec<u8>, String> {
    let n: usize = dims.iter().product();
    let (datatype, bitpix, len) = match voxels {
        Voxels::U8(v) => (2i16, 8i16, v.len()),
        Voxels::I16(v) => (4, 16, v.len()),
        Voxels::F32(v) => (16, 32, v.len()),
    };
    if len != n {
        return Err(format!("{len} voxels given for dimensions {dims:?}"));
    }
    if dims.iter().any(|&d| d == 0 || d > i16::MAX as usize) {
        return Err(format!("dimensions {dims:?} do not fit NIfTI-1"));
    }
    let mut h = vec![0u8; 352];
    let put_i16 =
        |h: &mut Vec<u8>, off: usize, v: i16| h[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 =
        |h: &mut Vec<u8>, off: usize, v: f32| h[off..off + 4].copy_from_slice(&v.to_le_bytes());
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    let ndim = if dims[3] > 1 { 4 } else { 3 };
    put_i16(&mut h, 40, ndim);
    for (i, d) in dims.iter().enumerate() {
        put_i16(&mut h, 42 + 2 * i, *d as i16);
    }
    for i in 4..7 {
        put_i16(&mut h, 42 + 2 * i, 1);
    }
    put_i16(&mut h, 70, datatype);
    put_i16(&mut h, 72, bitpix);
    put_f32(&mut h, 76, 1.0); // qfac
    for c in 0..3 {
        let col = affine_ras
            .iter()
            .map(|row| row[c] * row[c])
            .sum::<f64>()
            .sqrt();
        put_f32(&mut h, 80 + 4 * c, col as f32);
    }
    put_f32(&mut h, 92, 1.0);
    put_f32(&mut h, 108, 352.0);
    put_f32(&mut h, 112, 1.0); // scl_slope
    h[123] = 2 | 16; // mm, ms
    put_i16(&mut h, 254, 2);
    for (r, row) in affine_ras.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put_f32(&mut h, 280 + 16 * r + 4 * c, *v as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    let mut out = h;
    out.reserve(n * bitpix as usize / 8);
    match voxels {
        Voxels::U8(v) => out.extend_from_slice(v),
        Voxels::I16(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Voxels::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_voxels_and_affine() {
        let dims = [3, 2, 2, 2];
        let data: Vec<f32> = (0..24).map(|v| v as f32 * 0.5 - 3.0).collect();
        let aff = [
            [-1.5, 0.0, 0.0, 10.0],
            [0.0, 1.25, 0.0, -4.0],
            [0.0, 0.0, 8.0, 2.5],
        ];
        let bytes = encode(dims, &aff, Voxels::F32(&data)).unwrap_or_default();
        let v = parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.dims, dims);
        assert_eq!(v.data, data);
        assert_eq!(v.affine_ras, aff);
    }

    #[test]
    fn truncated_and_garbage_inputs_are_errors() {
        let bytes = encode(
            [4, 4, 1, 1],
            &[
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
            ],
            Voxels::U8(&[1; 16]),
        )
        .unwrap_or_default();
        assert!(parse(&bytes[..bytes.len() - 1]).is_err());
        assert!(parse(&bytes[..100]).is_err());
        assert!(parse(b"hello world").is_err());
        let mut bad_dim = bytes.clone();
        bad_dim[42..44].copy_from_slice(&(-3i16).to_le_bytes());
        assert!(parse(&bad_dim).is_err());
    }

    #[test]
    fn identity_quaternion_gives_pixdim_diagonal() {
        let a = quaternion_affine(
            [0.0, 0.0, 0.0, 1.0, 2.0, 3.0],
            [1.0, 0.5, 0.75, 6.0, 0.0, 0.0, 0.0, 0.0],
        );
        assert_eq!(
            a,
            [
                [0.5, 0.0, 0.0, 1.0],
                [0.0, 0.75, 0.0, 2.0],
                [0.0, 0.0, 6.0, 3.0]
            ]
        );
    }
}
