"""A link that reopens the same run: the page's URL carries the mode, the scenario (or the
lesson step) and every setting changed from it.

The query string is read once, when a tab opens, and rewritten as the user changes things.
What comes back in a link is untrusted like any other input: only listed scenarios and
lessons, only the panel's settings, each value checked against its control.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from abm.config import Config, ConfigError
from abm.ui.settings import CONTRAST_KEYS, CONTROLS
from abm.ui.state import COMPARE, DEFAULT_REPLICATES, LESSONS, MODES, AppState

# A link longer than this, or with more parameters, is not one the page wrote.
MAX_QUERY_CHARS = 4000
MAX_PARAMS = 64
CONTRAST_PREFIX = "b."


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def changed(config: Config, base: Config) -> dict[str, str]:
    """The panel's settings whose values differ from the scenario's, as text."""
    return {key: _text(config.get(key)) for key in CONTROLS
            if config.get(key) != base.get(key)}


def to_query(state: AppState) -> str:
    """The query string of what the tab shows now."""
    params = [("mode", state.mode.value)]
    lesson = state.lesson_step.value
    if lesson is not None:
        params += [("lesson", lesson[0]), ("step", str(lesson[1] + 1))]
    elif state.scenario.value in state.scenarios:
        params.append(("scenario", state.scenario.value))
    params += list(changed(state.config.value, state.base.value).items())
    if state.comparing:
        params += [(CONTRAST_PREFIX + k, _text(v)) for k, v in state.contrast.value.items()]
        if state.replicate_count.value != DEFAULT_REPLICATES:
            params.append(("replicates", str(state.replicate_count.value)))
    return urlencode(params)


def parse_value(key: str, text: str):
    """A setting's value from its text in a link, as its control would send it."""
    kind = CONTROLS[key].kind
    if kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"link: {key}: expected a number, got {text[:40]!r}") from None
        return int(number) if kind == "int" and number.is_integer() else number
    if kind == "bool":
        if text not in ("true", "false"):
            raise ConfigError(f"link: {key}: expected true or false, got {text[:40]!r}")
        return text == "true"
    return text


def read_query(search: str | None) -> dict:
    """The link's parts: mode, scenario, lesson and step, settings, contrast, replicates.

    Raises ConfigError (one line) for anything the page would not have written.
    """
    search = (search or "").lstrip("?")
    if len(search) > MAX_QUERY_CHARS:
        raise ConfigError("link: too long to be one this page wrote")
    pairs = parse_qsl(search, keep_blank_values=True, max_num_fields=MAX_PARAMS)
    out: dict = {"settings": {}, "contrast": {}}
    for key, text in pairs:
        if key == "mode":
            if text not in MODES:
                raise ConfigError(f"link: mode: choose one of {', '.join(MODES)}")
            out["mode"] = text
        elif key in ("scenario", "lesson"):
            out[key] = text
        elif key in ("step", "replicates"):
            if not text.isdigit() or len(text) > 3:
                raise ConfigError(f"link: {key}: expected a whole number")
            out[key] = int(text)
        elif key in CONTROLS:
            out["settings"][key] = parse_value(key, text)
        elif key.startswith(CONTRAST_PREFIX) and key[len(CONTRAST_PREFIX):] in CONTRAST_KEYS:
            name = key[len(CONTRAST_PREFIX):]
            out["contrast"][name] = parse_value(name, text)
        else:
            raise ConfigError(f"link: {key[:40]!r} is not a setting this page shares")
    return out


def apply_query(state: AppState, search: str | None, open_lesson=None) -> None:
    """Reopen what a link describes; a bad link leaves the default run and says why.

    ``open_lesson(state, name, step)`` loads a lesson step (the lesson view's loader).
    """
    try:
        link = read_query(search)
    except (ConfigError, ValueError) as exc:
        state.report(str(exc) if isinstance(exc, ConfigError) else "link: cannot be read")
        return
    if not any(link.get(k) for k in ("mode", "scenario", "lesson", "settings", "contrast")):
        return
    mode = link.get("mode")
    if "lesson" in link and open_lesson is not None:
        state.set_mode(LESSONS)
        open_lesson(state, link["lesson"], max(0, link.get("step", 1) - 1))
    elif "scenario" in link:
        state.choose(link["scenario"])
    if state.message.value:
        return
    if link["settings"]:
        state.change_many(link["settings"])
    if mode is not None and mode != state.mode.value:
        state.set_mode(mode)
    if link.get("replicates") is not None:
        state.set_replicates(link["replicates"])
    if link["contrast"] and mode == COMPARE:
        state.change_contrast(link["contrast"], replace=True)
