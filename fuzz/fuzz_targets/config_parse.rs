//! Configuration files: any text in, no panic; an invalid file lists at least one problem, each
//! naming a line and a key, and no problem message quotes a secret taken from the environment.
#![no_main]

use std::path::PathBuf;

use icsfwd::config::{Config, Origin};
use libfuzzer_sys::fuzz_target;

/// What every `*_env` variable holds; it must never be echoed.
const ENV_SECRET: &str = "fuzz-env-secret-4f1d";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Origin {
        path: PathBuf::from("fuzz.toml"),
        mode: 0o600,
    };
    let env = |_: &str| Some(ENV_SECRET.to_owned());
    match Config::parse(text, &origin, &env) {
        Ok(config) => {
            let _ = config.warnings();
            assert!(!format!("{config:?}").contains(ENV_SECRET));
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            let shown = problems.to_string();
            assert!(!shown.contains(ENV_SECRET), "a secret leaked into: {shown}");
        }
    }
});
