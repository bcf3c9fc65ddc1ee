"""One place for where SafetyNet keeps things: flag > environment variable > config file > default,
never the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.db.engine import resolve_url
from safetynet.errors import InputError
from safetynet.settings import load_settings


def test_the_defaults_live_in_the_users_data_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        {"HOME": str(tmp_path / "me"), "XDG_DATA_HOME": str(tmp_path / "data")}
    )
    assert settings.home == tmp_path / "data" / "safetynet"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'safetynet' / 'safetynet.db'}"
    assert (settings.log_format, settings.log_level, settings.log_file) == ("text", "INFO", None)
    assert settings.path("population") == tmp_path / "data" / "safetynet" / "population"


def test_environment_beats_config_file_beats_default(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'home = "/srv/safetynet"\ndatabase_url = "postgresql://db/safetynet"\n'
        'log_format = "json"\nlog_file = "/var/log/safetynet.log"\n',
        encoding="utf-8",
    )
    from_file = load_settings({"SAFETYNET_CONFIG": str(config)})
    assert from_file.home == Path("/srv/safetynet")
    assert from_file.database_url == "postgresql://db/safetynet"
    assert from_file.log_format == "json"
    assert from_file.log_file == Path("/var/log/safetynet.log")
    assert from_file.sources["database_url"] == f"{config} (database_url)"

    env = {
        "SAFETYNET_CONFIG": str(config),
        "SAFETYNET_HOME": str(tmp_path / "h"),
        "SAFETYNET_DATABASE_URL": "sqlite:///x.db",
        "SAFETYNET_LOG_FORMAT": "TEXT",
        "SAFETYNET_LOG_LEVEL": "debug",
    }
    from_env = load_settings(env)
    assert from_env.home == tmp_path / "h"
    assert from_env.database_url == "sqlite:///x.db"
    assert (from_env.log_format, from_env.log_level) == ("text", "DEBUG")
    assert from_env.sources["home"] == "$SAFETYNET_HOME"
    assert from_env.log_file == Path("/var/log/safetynet.log")  # not overridden: the file's


def test_a_flag_beats_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", "sqlite:///from-env.db")
    assert resolve_url("sqlite:///from-flag.db").database == "from-flag.db"
    assert resolve_url().database == "from-env.db"
    monkeypatch.delenv("SAFETYNET_DATABASE_URL")
    monkeypatch.setenv("SAFETYNET_HOME", str(tmp_path))
    assert resolve_url().database == str(tmp_path / "safetynet.db")


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ('databse_url = "x"\n', {}, "unknown setting 'databse_url'"),
        ("home = 3\n", {}, "home: must be a string"),
        ("home = \n", {}, "cannot read the config file"),
        ("", {"SAFETYNET_LOG_FORMAT": "xml"}, "'xml' is not one of text, json"),
        ("", {"SAFETYNET_LOG_LEVEL": "LOUD"}, "'LOUD' is not a level"),
    ],
)
def test_a_bad_setting_is_one_clear_error(
    tmp_path: Path, config: str, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_settings({"SAFETYNET_CONFIG": str(path), **env})


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"SAFETYNET_CONFIG: .* does not exist"):
        load_settings({"SAFETYNET_CONFIG": str(tmp_path / "nowhere.toml")})
    # The default location may be absent: that is the normal case.
    assert load_settings({"XDG_CONFIG_HOME": str(tmp_path / "none"), "HOME": str(tmp_path)})


def test_without_a_home_folder_the_user_is_told_to_set_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_home() -> Path:
        raise RuntimeError("no home")

    monkeypatch.setattr(Path, "home", no_home)
    with pytest.raises(InputError, match="no home folder: set SAFETYNET_HOME"):
        load_settings({})
    assert load_settings({"SAFETYNET_HOME": str(tmp_path)}).home == tmp_path
