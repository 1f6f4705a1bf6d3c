"""The report's headline verdicts, derived from the figures it shows and naming the ones that drive them.

Each section (fidelity, utility, privacy) gets a level, ``good``, ``attention`` or ``bad`` (``na``
when not measured), and a sentence: a headline for the level, then the figures behind it, worst
first.  Every figure is judged by a rule written here, never by a blend of scores:

Fidelity, against the holdout reference (the same score with real rows the model never saw in
place of the synthetic rows: what a perfect generator reaches at that sample size) where there is
one, else against halves of the real rows scored against each other, scaled to the sizes compared
(quality and marginal accuracy; detection against 0.5):

* quality (column shapes and pairs) and k-way marginal accuracy: the gap below the reference;
* detection AUC: the excess over the reference's (or 0.5).

Utility: TSTR / TRTR.  Privacy: the DCR share against the 0.53 bar (``bad`` when even its interval
is above it), exact copies beyond the holdout's own rate, the membership-inference AUC's interval,
and the three Anonymeter risks, whose intervals must include 0 (``attention`` as soon as one does
not, with a risk of 0.1 or more).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mirage.evaluation._privacy import DCR_SHARE_LIMIT
from mirage.evaluation._stats import is_finite_number

__all__ = ["LEVELS", "Verdict", "judge"]

LEVELS = ("good", "attention", "bad")
HEADLINES = {
    "fidelity": {
        "good": "close to the real data",
        "attention": "partly distinguishable from the real data",
        "bad": "clearly distinguishable from the real data",
    },
    "utility": {
        "good": "models trained on it do as well as on real data",
        "attention": "models trained on it lose a little",
        "bad": "models trained on it lose a lot",
    },
    "privacy": {
        "good": "no sign of copying or membership leakage",
        "attention": "signs of leakage; review before sharing",
        "bad": "leaks training records",
    },
}

# (attention above, bad above) for each rule
QUALITY_GAP = (0.02, 0.07)
MARGINAL_GAP = (0.03, 0.10)
DETECTION_EXCESS = (0.10, 0.25)
ABSOLUTE_FIDELITY = (0.9, 0.8)  # (good from, attention from) without a holdout reference
UTILITY_RATIO = (0.95, 0.85)  # (good from, attention from)
COPY_EXCESS = (0.01, 0.05)
MIA_LOW = (0.5, 0.6)  # the interval's low end
RISK_ATTENTION = 0.1  # a risk this high whose interval excludes 0
RISK_BAD_LOW = 0.25  # an interval whose low end is this high


@dataclass(frozen=True)
class Finding:
    """One figure's judgement: its level and the words that state the figure."""

    level: str
    text: str

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


@dataclass(frozen=True)
class Verdict:
    """A section's level, its headline and the figures behind it (worst first)."""

    level: str
    headline: str
    reasons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.headline}: " + "; ".join(self.reasons) if self.reasons else self.headline

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "headline": self.headline, "reasons": list(self.reasons)}


def judge(scores: dict[str, Any], reference: dict[str, Any], details: dict[str, Any]) -> dict[str, Verdict]:
    """The verdict of fidelity, utility and privacy from the report's scores, reference and details."""
    verdicts = {}
    for section, findings, missing in (
        ("fidelity", _fidelity(scores, reference, details), "not measured"),
        ("utility", _utility(details), "not measured (needs a holdout and a target column)"),
        ("privacy", _privacy(details), "not measured (needs a holdout)"),
    ):
        if not findings:
            verdicts[section] = Verdict("na", missing)
            continue
        level = LEVELS[max(f.rank for f in findings)]
        ordered = sorted(findings, key=lambda f: -f.rank)  # stable: equal levels keep their order
        verdicts[section] = Verdict(level, HEADLINES[section][level], tuple(f.text for f in ordered))
    return verdicts


def _value(mapping: dict[str, Any], name: str) -> float | None:
    """The named figure as a float, or None where it is missing or not a finite number."""
    value: Any = mapping.get(name)
    return float(value) if is_finite_number(value) else None


def _level(value: float, limits: Sequence[float]) -> str:
    """``good`` up to the first limit, ``attention`` up to the second, ``bad`` above."""
    return "good" if value <= limits[0] else "attention" if value <= limits[1] else "bad"


def _interval(ci: Sequence[float] | None) -> str:
    if not ci or len(ci) != 2 or not all(is_finite_number(x) for x in ci):
        return ""
    return f" (95% interval {ci[0]:.2f}-{ci[1]:.2f})"


# ------------------------------------------------------------------------------------------------
# fidelity
# ------------------------------------------------------------------------------------------------


def _fidelity(scores: dict[str, Any], reference: dict[str, Any], details: dict[str, Any]) -> list[Finding]:
    findings = []
    resampled = details.get("resampled_reference") or {}
    for name, label, limits in (
        ("quality", "column shapes and pairs: quality", QUALITY_GAP),
        ("marginal_accuracy", "k-way marginal accuracy", MARGINAL_GAP),
    ):
        value, ref = _value(scores, name), _value(reference, name)
        if value is None:
            continue
        if ref is not None:
            gap = ref - value
            where = "above" if gap < 0 else "as good as" if gap <= limits[0] else "below"
            findings.append(
                Finding(_level(gap, limits), f"{label} {value:.3f}, {where} the holdout's {ref:.3f}")
            )
        elif _value(resampled, name) is not None:
            again = float(resampled[name])
            gap = again - value
            where = "above" if gap < 0 else "as good as" if gap <= limits[0] else "below"
            findings.append(
                Finding(
                    _level(gap, limits),
                    f"{label} {value:.3f}, {where} real rows against real rows at these sizes ({again:.3f}; "
                    "no holdout to compare with)",
                )
            )
        else:
            good, attention = ABSOLUTE_FIDELITY
            level = "good" if value >= good else "attention" if value >= attention else "bad"
            findings.append(Finding(level, f"{label} {value:.3f} (no holdout to compare with)"))
    auc = _value(scores, "detection_auc")
    if auc is not None:
        ref_auc = _value(reference, "detection_auc")
        floor = 0.5 if ref_auc is None else max(0.5, ref_auc)
        level = _level(auc - floor, DETECTION_EXCESS)
        text = f"detection AUC {auc:.2f}" + ("" if ref_auc is None else f" (holdout {ref_auc:.2f})")
        if level == "good":
            text += ": a classifier barely tells synthetic from real rows"
        else:
            text += ": a classifier tells synthetic from real rows"
            features = [f["feature"] for f in details.get("detection", {}).get("top_features", [])[:3]]
            if features:
                text += ", mostly by " + ", ".join(features)
        findings.append(Finding(level, text))
    return findings


# ------------------------------------------------------------------------------------------------
# utility
# ------------------------------------------------------------------------------------------------


def _utility(details: dict[str, Any]) -> list[Finding]:
    utility = details.get("utility")
    if not utility or not is_finite_number(utility.get("ratio")):
        return []
    ratio = float(utility["ratio"])
    good, attention = UTILITY_RATIO
    level = "good" if ratio >= good else "attention" if ratio >= attention else "bad"
    metric = utility.get("metric", "score")
    findings = [
        Finding(
            level,
            f"trained on synthetic rows, a model scores {metric} {utility['tstr']:.3f} on the holdout "
            f"against {utility['trtr']:.3f} trained on real rows (ratio {ratio:.2f})",
        )
    ]
    agreement = utility.get("importance_agreement")
    if is_finite_number(agreement) and agreement < 0.5:
        findings.append(
            Finding(
                "good" if level == "good" else level,
                f"it ranks the features differently (importance agreement {agreement:.2f})",
            )
        )
    return findings


# ------------------------------------------------------------------------------------------------
# privacy
# ------------------------------------------------------------------------------------------------


ATTACKS = {
    "singling_out": "singling-out risk",
    "linkability": "linkability risk",
    "inference": "attribute-inference risk",
}


def _privacy(details: dict[str, Any]) -> list[Finding]:
    privacy = details.get("privacy")
    if not privacy:
        return []
    findings = []
    dcr = privacy.get("dcr", {})
    share, ci = dcr.get("dcr_share"), dcr.get("dcr_share_ci")
    if is_finite_number(share):
        low = ci[0] if ci and is_finite_number(ci[0]) else share
        level = "bad" if low > DCR_SHARE_LIMIT else "attention" if share > DCR_SHARE_LIMIT else "good"
        text = f"DCR share {share:.2f}{_interval(ci)}"
        text += (
            f", above the {DCR_SHARE_LIMIT} bar" if level != "good" else f", within the {DCR_SHARE_LIMIT} bar"
        )
        findings.append(Finding(level, text))
    copies, chance = dcr.get("exact_copy_rate"), dcr.get("holdout_copy_rate")
    if is_finite_number(copies) and is_finite_number(chance):
        excess = copies - chance
        level = _level(excess, COPY_EXCESS)
        if level != "good" or copies > 0:
            findings.append(
                Finding(level, f"exact copies of training rows {copies:.1%} (holdout by chance {chance:.1%})")
            )
    mia = privacy.get("membership_inference", {})
    auc, auc_ci = mia.get("auc"), mia.get("auc_ci")
    if is_finite_number(auc):
        low = auc_ci[0] if auc_ci and is_finite_number(auc_ci[0]) else auc
        level = "bad" if low > MIA_LOW[1] else "attention" if low > MIA_LOW[0] else "good"
        findings.append(Finding(level, f"membership-inference AUC {auc:.2f}{_interval(auc_ci)}"))
    quiet = []
    for key, label in ATTACKS.items():
        result = privacy.get(key)
        if not result or not is_finite_number(result.get("risk")):
            continue
        risk, risk_ci = float(result["risk"]), result.get("risk_ci") or [0.0, 1.0]
        low = float(risk_ci[0]) if is_finite_number(risk_ci[0]) else 0.0
        level = (
            "bad" if low >= RISK_BAD_LOW else "attention" if low > 0 and risk >= RISK_ATTENTION else "good"
        )
        if level == "good":
            quiet.append(label)
            continue
        where = f" for {result['worst_secret']!r}" if result.get("worst_secret") else ""
        findings.append(Finding(level, f"{label} {risk:.2f}{_interval(risk_ci)}{where}"))
    if quiet:
        findings.append(Finding("good", f"{', '.join(quiet)}: no evidence of a risk"))
    return findings
