//! One DICOM file from arbitrary bytes: header parse, functional groups, pixel decode
//! (all codecs), rescale, then the series layout over its frames. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use systole::io::dicom::{layout, read_image_bytes};

fuzz_target!(
    init: {
        // Systole contains codec panics with catch_unwind (see decode_contained); the
        // fuzzer's hook would abort before that. A panic that escapes still aborts.
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
    if let Ok((header, _pixels)) = read_image_bytes(data) {
        let members: Vec<(usize, usize)> = (0..header.frames.len()).map(|f| (0, f)).collect();
        let _ = layout(&[header], &members);
    }
}
);
