//! The `segq` binary: everything lives in the library; see `segq --help`.

fn main() {
    std::process::exit(segq::cli::main());
}
