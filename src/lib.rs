//! Systole: cardiac MR short-axis cine review.
//!
//! The library holds everything that is not GUI: the study model ([`study`]), file
//! loaders ([`io`]), contour geometry ([`contour`]) and the command-line adapters
//! ([`cli`]).

pub mod app;
pub mod cli;
pub mod contour;
pub mod io;
pub mod measure;
pub mod phantom;
pub mod pipeline;
pub mod qc;
pub mod report;
pub mod segment;
pub mod study;
