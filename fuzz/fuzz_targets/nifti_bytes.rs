//! NIfTI-1 header and voxel parsing from arbitrary bytes. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = systole::io::nifti::parse(data);
});
