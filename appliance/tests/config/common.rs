//! Helpers shared by the configuration tests (`tests/config/`): scratch directories and files
//! with real modes.

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

/// A test's scratch directory: fresh, under the system's temporary directory, and removed
/// with everything in it when dropped, so a test run leaves nothing behind in /tmp. Derefs to
/// its path.
#[derive(Debug)]
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh empty directory for one test, removed when the returned guard is dropped.
pub fn scratch(test: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("icsfwd-config-{test}-"))
            .tempdir()
            .unwrap(),
    )
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
