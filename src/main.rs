//! The `segq` binary: everything lives in the library; see `segq --help`.

/// mimalloc instead of the system allocator: glibc returns freed memory to
/// the OS and faults it in again, which made building a result bitmap up to
/// 9× slower in the measurements (see the README's Performance section).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(segq::cli::main());
}
