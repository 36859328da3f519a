//! Helpers shared by the `config_*` tests: scratch directories and files with real modes.
#![allow(dead_code, reason = "each test file uses a part")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use icsfwd::config::{Config, LoadError, Origin, Problems};

/// A valid configuration of 13 lines; tests append to it, so what they add starts on line 14.
pub const BASE: &str = r#"[sensor]
name = "s1"
ip = "10.0.0.1"

[[destination]]
name = "hec"
kind = "hec"
urls = ["https://127.0.0.1:8088"]
token_env = "TOKEN"

[[rule]]
name = "all"
actions = ["hec"]
"#;

/// The environment the tests pass: `TOKEN` and `PASSWORD` are set.
pub fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some("env-token-VALUE-1234".to_owned()),
        "PASSWORD" => Some("env-password-VALUE-5678".to_owned()),
        _ => None,
    }
}

/// A fresh empty directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icsfwd-config-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `dir/name` with `mode`, returning the path.
pub fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// Parses `text` as if read from a file `icsfwd.toml` with `mode` in `dir`.
pub fn parse_in(dir: &Path, text: &str, mode: u32) -> Result<Config, Problems> {
    let origin = Origin {
        path: dir.join("icsfwd.toml"),
        mode,
    };
    Config::parse(text, &origin, &env)
}

/// Parses `text` from a private file in the current directory.
pub fn parse(text: &str) -> Result<Config, Problems> {
    let origin = Origin {
        path: "icsfwd.toml".into(),
        mode: 0o600,
    };
    Config::parse(text, &origin, &env)
}

/// Writes `text` with `mode` and loads it through `Config::load_with_env`.
pub fn load(dir: &Path, text: &str, mode: u32) -> Result<Config, LoadError> {
    let path = write(dir, "icsfwd.toml", text, mode);
    Config::load_with_env(&path, &env)
}
