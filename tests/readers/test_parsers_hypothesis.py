"""Every parser of outside input, fed what Hypothesis generates: a clear ValueError or a value, never
another exception, and round trips where the format has one."""

import json
import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colab_guard.contract.files import parse_json
from colab_guard.contract.heartbeat import read_heartbeat_file
from colab_guard.contract.manifests import read_manifest
from colab_guard.contract.setting_kinds import parse_seconds
from colab_guard.contract.settings import CONFIGURABLE, parse_value
from colab_guard.contract.units import human_bytes, parse_size
from colab_guard.kernel.identity import from_session, session_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@given(st.text(max_size=40))
def test_sizes_parse_or_say_why(text):
    try:
        assert parse_size(text) >= 0
    except ValueError:
        pass


@given(st.integers(min_value=0, max_value=1 << 60))
def test_sizes_written_are_read_back_close(n):
    text = human_bytes(n)
    assert abs(parse_size(text.replace(" ", "").replace("iB", "")) - n) <= max(0.05 * n, 1)


@given(st.text(max_size=30))
def test_durations_parse_or_say_why(text):
    try:
        seconds = parse_seconds(text)
        assert seconds is None or seconds > 0
    except ValueError:
        pass


@given(st.sampled_from(sorted(CONFIGURABLE)), st.text(max_size=40))
def test_every_setting_parses_or_says_why(name, text):
    try:
        value = parse_value(name, text)
    except ValueError:
        return
    assert not (isinstance(value, float) and not math.isfinite(value))


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_json_from_outside_is_a_value_or_a_value_error(data):
    try:
        parse_json(data)
    except ValueError:
        pass


@given(st.integers(min_value=1, max_value=200_000), st.sampled_from("[{"))
def test_deeply_nested_json_is_a_value_error_however_deep(depth, bracket):
    try:
        parse_json(bracket * depth)
    except ValueError:
        pass


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(json_values)
def test_heartbeats_are_a_dict_or_nothing(tmp_path, value):
    path = os.path.join(tmp_path, "heartbeat.json")
    with open(path, "w") as f:
        json.dump(value, f)
    beat = read_heartbeat_file(path)
    assert beat is None or beat == value


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    json_values
    | st.fixed_dictionaries(
        {"id": json_values, "created": st.text(), "created_ts": st.floats(), "variables": json_values, "groups": json_values}
    )
)
def test_manifests_are_checked_before_anything_reads_them(tmp_path, value):
    folder = os.path.join(tmp_path, "snap")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if os.path.exists(os.path.join(folder, "manifest.json")):
        os.unlink(os.path.join(folder, "manifest.json"))
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(value, f)
    os.chmod(os.path.join(folder, "manifest.json"), 0o600)
    try:
        manifest = read_manifest(folder)
    except ValueError:
        return
    assert isinstance(manifest["variables"], dict) and isinstance(manifest["groups"], dict)


@given(json_values, st.text(max_size=10))
def test_colab_session_answers_give_an_identity_or_none(sessions, kernel):
    session = session_of(sessions, kernel)
    if session is not None:
        from_session(session, "http://127.0.0.1:9000/api/sessions")
