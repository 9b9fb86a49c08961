"""The checkpoint keys in the settings: a development key derived from the secret key, none
elsewhere unless configured, malformed keys refused at start-up, extra verifier keys trusted."""

from __future__ import annotations

import pytest

from infrastructure.audit import checkpoints as cp
from infrastructure.settings import SettingsError, audit_config, build_settings

SIGNER_TEXT, VERIFIER_TEXT = cp.generate_key("ops-2026", bytes(range(32)))
_, OLD_VERIFIER_TEXT = cp.generate_key("ops-2025", bytes(range(1, 33)))
PRODUCTION = {"environment": "production", "secret_key": "s" * 64}


def test_development_derives_the_same_signer_key_every_time() -> None:
    first = audit_config(build_settings(environment="development"))
    second = audit_config(build_settings(environment="development"))

    assert first.signer is not None
    assert first.signer.verifier() == second.signer.verifier()  # type: ignore[union-attr]


def test_production_without_a_signer_key_signs_no_checkpoints() -> None:
    config = audit_config(build_settings(**PRODUCTION))

    assert (config.signer, config.trusted()) == (None, [])


def test_configured_signer_key_signs_and_its_verifier_key_is_trusted() -> None:
    config = audit_config(build_settings(**PRODUCTION, checkpoint_signer_key=SIGNER_TEXT))

    assert [str(key) for key in config.trusted()] == [VERIFIER_TEXT]


def test_retired_verifier_keys_are_trusted_comma_or_space_separated() -> None:
    config = audit_config(
        build_settings(
            **PRODUCTION,
            checkpoint_signer_key=SIGNER_TEXT,
            checkpoint_verifier_keys=f"{OLD_VERIFIER_TEXT}, {VERIFIER_TEXT}  {OLD_VERIFIER_TEXT}",
        )
    )

    assert [str(key) for key in config.trusted()] == [VERIFIER_TEXT, OLD_VERIFIER_TEXT]


def test_malformed_signer_key_is_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="LEDGER_CHECKPOINT"):
        build_settings(**PRODUCTION, checkpoint_signer_key=SIGNER_TEXT[:-4])


def test_verifier_key_with_a_wrong_key_id_is_refused_at_start_up() -> None:
    name, _, key = VERIFIER_TEXT.split("+", 2)
    with pytest.raises(SettingsError, match="key id does not match"):
        build_settings(**PRODUCTION, checkpoint_verifier_keys=f"{name}+00000000+{key}")


def test_origin_with_a_space_is_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="origin"):
        build_settings(checkpoint_origin="token ledger")
