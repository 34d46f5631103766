"""The county's configuration: settings and step modes from one TOML file.

    [county]   CountySettings fields (time zone, clocks, reminder leads)
    [modes]    step = "automatic" | "officer"

The file is named by ``--config`` or ``COUNTY_CONFIG``; with neither, the
defaults of PROTOCOL.md apply. Errors name the file, the key and the rule.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from workflows.refusal import Refused, explain
from workflows.settings import CountySettings
from workflows.steps import check_modes


class ConfigError(ValueError):
    """A configuration that breaks a rule; nothing was started."""


def load_settings(path: Path | None) -> CountySettings:
    """The county's settings and step modes from a TOML file, or defaults.

    Raises:
        ConfigError: naming the file and the key that breaks a rule.
    """
    if path is None:
        configured = os.environ.get("COUNTY_CONFIG")
        if not configured:
            return CountySettings()
        path = Path(configured)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    unknown = sorted(data.keys() - {"county", "modes"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: is not a known table (county, modes)")
    county, modes = data.get("county", {}), data.get("modes", {})
    for key, value in (("county", county), ("modes", modes)):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {key}: must be a table")
    if "modes" in county:
        raise ConfigError(f"{path}: county.modes: set modes in the [modes] table")
    try:
        check_modes(modes)
        return CountySettings.model_validate({**county, "modes": modes})
    except Refused as error:
        raise ConfigError(f"{path}: {error}") from None
    except ValidationError as error:
        clauses = explain(error).split("; ")
        message = "; ".join(f"county.{clause}" for clause in clauses)
        raise ConfigError(f"{path}: {message}") from None
