"""Script from the text: languages written in several scripts get the ``xxx_Scrp`` key of the text's script.

Texts below were written for the project (Serbian, Uzbek, Azerbaijani, Kurdish, Punjabi in each of their
current scripts); the Serbian documents come from shared/data (lingua-rs test sentences, Cyrillic) and their
letter-by-letter Latin transliteration (the official Serbian correspondence, one Cyrillic letter to one Latin
letter or digraph). Scripts left out: Kurmanji in Cyrillic and Azerbaijani in Cyrillic (Soviet-era alphabets,
rare on today's web), which neither lid.176 (Tatar/Russian) nor CLD2 (no reliable answer) recognise at all.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pyarrow as pa
import pytest

import curate.languages.relatives as relatives
from curate.blocks.base import BlockContext
from curate.langid.langid_block import LanguageId
from curate.langid.script import dominant_script, script_counts, scripts_among
from curate.languages.labels import SCRIPT_CHOICES, label_scripts, normalize_label, script_is_open, split_key
from curate.languages.relatives import may_move, related

TEXTS = {
    "srp_Latn": "Beograd je glavni i najveći grad Srbije. Nalazi se na ušću Save u Dunav. Svake godine grad "
                "posećuje veliki broj turista koji žele da vide Kalemegdan i Knez Mihailovu ulicu. Deca idu u "
                "školu svakog jutra, a posle podne se igraju u parku.",
    "srp_Cyrl": "Београд је главни и највећи град Србије. Налази се на ушћу Саве у Дунав. Сваке године град "
                "посећује велики број туриста који желе да виде Калемегдан и Кнез Михаилову улицу. Деца иду у "
                "школу сваког јутра, а после подне се играју у парку.",
    "uzn_Latn": "O'zbekiston Respublikasi Markaziy Osiyoda joylashgan davlat. Poytaxti Toshkent shahri. "
                "Mamlakatda o'ttiz milliondan ortiq aholi yashaydi. O'zbek tili davlat tili hisoblanadi. Bolalar "
                "maktabga har kuni ertalab boradilar va kechqurun uyga qaytadilar. Bizning oilamiz katta, men "
                "onam, otam va ikki ukam bilan yashayman.",
    "uzn_Cyrl": "Ўзбекистон Республикаси Марказий Осиёда жойлашган давлат. Пойтахти Тошкент шаҳри. Мамлакатда "
                "ўттиз миллиондан ортиқ аҳоли яшайди. Ўзбек тили давлат тили ҳисобланади. Болалар мактабга ҳар "
                "куни эрталаб борадилар ва кечқурун уйга қайтадилар. Бизнинг оиламиз катта, мен онам, отам ва "
                "икки укам билан яшайман.",
    "azj_Latn": "Azərbaycan Respublikası Cənubi Qafqazda yerləşən dövlətdir. Paytaxtı Bakı şəhəridir. Ölkədə "
                "on milyondan çox insan yaşayır. Uşaqlar hər gün səhər məktəbə gedirlər və axşam evə "
                "qayıdırlar. Azərbaycan dili dövlət dilidir.",
    "azb_Arab": "آذربایجان جومهوریتی جنوبی قافقازدا یئرلشن دؤولتدیر. پایتاختی باکی شهریدیر. اؤلکه‌ده اون "
                "میلیوندان چوخ اینسان یاشاییر. اوشاقلار هر گون سحر مکتبه گئدیرلر و آخشام ائوه قاییدیرلار. "
                "آذربایجان دیلی دؤولت دیلیدیر. تبریز شهری ایرانین ان بؤیوک شهرلریندن بیریدیر و اورادا "
                "میلیونلارجا آذربایجانلی یاشاییر.",
    "kmr_Latn": "Kurdistan welatekî çiyayî ye. Zarok her roj serê sibê diçin dibistanê û êvarê vedigerin malê. "
                "Zimanê kurdî yek ji zimanên hind-ewropî ye. Em li gundekî biçûk dijîn û bavê min cotkar e.",
    "ckb_Arab": "کوردستان وڵاتێکی شاخاوییە. منداڵەکان هەموو ڕۆژێک بەیانی دەچن بۆ قوتابخانە و ئێوارە "
                "دەگەڕێنەوە بۆ ماڵەوە. زمانی کوردی یەکێکە لە زمانە هیندوئەورووپییەکان. ئێمە لە گوندێکی "
                "بچووک دەژین و باوکم جووتیارە.",
    "pan_Guru": "ਪੰਜਾਬ ਭਾਰਤ ਦਾ ਇੱਕ ਸੂਬਾ ਹੈ। ਇਸ ਦੀ ਰਾਜਧਾਨੀ ਚੰਡੀਗੜ੍ਹ ਹੈ। ਬੱਚੇ ਹਰ ਰੋਜ਼ ਸਵੇਰੇ ਸਕੂਲ ਜਾਂਦੇ ਹਨ ਅਤੇ ਸ਼ਾਮ "
                "ਨੂੰ ਘਰ ਵਾਪਸ ਆਉਂਦੇ ਹਨ। ਪੰਜਾਬੀ ਬੋਲੀ ਬਹੁਤ ਮਿੱਠੀ ਹੈ।",
    "pnb_Arab": "پنجاب پاکستان دا اک صوبہ اے۔ ایہدا راجگڑھ لہور اے۔ بچے ہر روز سویرے سکول جاندے نیں تے شام "
                "نوں گھر واپس آندے نیں۔ پنجابی بولی بہت مٹھی اے۔",
}
# What lid.176 alone (second_opinion: none) cannot do, because it has no such language, not because of the
# script: it was never trained on Uzbek in Cyrillic (says Russian), and this short Serbian Latin text it calls
# Croatian (lid.176's hr/sr/sh are all close); the Serbian documents below measure lid.176 alone instead.
LID176_ALONE_MISSES = {"uzn_Cyrl", "srp_Latn"}
SETTINGS = ["none", "auto", "cld2", "lingua"]

_CYRL = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШабвгдђежзијклљмнњопрстћуфхцчџш"
_LATN = ("A B V G D Đ E Ž Z I J K L Lj M N Nj O P R S T Ć U F H C Č Dž Š "
         "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š").split()
_TO_LATIN = {ord(c): lat for c, lat in zip(_CYRL, _LATN, strict=True)}


def _block(setting: str) -> LanguageId:
    if setting == "lingua" and importlib.util.find_spec("lingua") is None:
        pytest.skip("the optional extra curate-corpus[lingua] is not installed")
    return LanguageId(second_opinion=setting)  # type: ignore[arg-type]


@pytest.mark.parametrize("setting", SETTINGS)
def test_each_script_gets_its_key(setting: str) -> None:
    out = _block(setting).process(pa.table({"text": list(TEXTS.values())}), BlockContext()).table
    got = dict(zip(TEXTS, out.column("lang").to_pylist(), strict=True))
    for want, key in got.items():
        assert split_key(key)[1] == split_key(want)[1], (want, key)  # never the wrong script
        if setting != "none" or want not in LID176_ALONE_MISSES:
            assert key == want, (setting, want, key)
    for row in out.column("lang_topk").to_pylist():  # the top-k follows the text's script too
        assert all(split_key(t["lang"])[0] != "srp" or split_key(t["lang"])[1] == split_key(row[0]["lang"])[1]
                   for t in row)


def _serbian_documents(shared_data: Path) -> list[str]:
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as f:
        serbian = [t for t in (json.loads(line) for line in f) if t["iso639_1"] == "sr"]
    texts = [r["text"] for r in serbian if dominant_script(r["text"]) == "Cyrl"]
    return [" ".join(texts[i:i + 10]) for i in range(0, 400, 10)]


@pytest.mark.parametrize("setting", SETTINGS)
def test_serbian_documents_in_both_scripts(shared_data: Path, setting: str) -> None:
    cyrillic = _serbian_documents(shared_data)
    latin = [doc.translate(_TO_LATIN) for doc in cyrillic]
    assert dominant_script(latin[0]) == "Latn" and dominant_script(cyrillic[0]) == "Cyrl"
    block = _block(setting)
    got_c = block.process(pa.table({"text": cyrillic}), BlockContext()).table.column("lang").to_pylist()
    got_l = block.process(pa.table({"text": latin}), BlockContext()).table.column("lang").to_pylist()
    assert "srp_Latn" not in got_c and "srp_Cyrl" not in got_l
    assert got_c.count("srp_Cyrl") >= 0.9 * len(cyrillic)
    # lid.176 splits Latin Serbian between sr (now srp_Latn, before this always srp_Cyrl), sh and hr
    assert got_l.count("srp_Latn") >= 0.4 * len(latin), (setting, got_l)
    assert all(split_key(k)[0] in {"srp", "hbs", "hrv", "bos"} for k in got_l), got_l


def test_labels_that_name_their_script_are_trusted() -> None:
    assert normalize_label("__label__srp_Latn", "Cyrl") == "srp_Latn"
    assert normalize_label("sr-Cyrl", "Latn") == "srp_Cyrl"
    assert not script_is_open("__label__srp_Latn") and script_is_open("__label__sr") and not script_is_open("de")
    assert normalize_label("de", "Cyrl") == "deu_Latn"  # a one-script language keeps its script
    assert normalize_label("hi", "Latn") == "hin_Latn"  # generic rule: FineWeb2 has romanised Hindi
    assert normalize_label("mn", "Mong") == "khk_Mong" and normalize_label("mn", "Cyrl") == "khk_Cyrl"
    for label, choices in SCRIPT_CHOICES.items():  # every documented choice is in its own script
        for script, key in choices.items():
            assert normalize_label(label, script) == key and split_key(key)[1] == script


def test_script_histogram() -> None:
    assert script_counts("Ово је текст, a ovo nije.") == {"Cyrl": 10, "Latn": 8}
    assert dominant_script("こんにちは世界") == "Jpan" and dominant_script("中文文本") == "Hani"
    assert dominant_script("ਪੰਜਾਬੀ") == "Guru" and dominant_script("12345 !!") is None
    assert dominant_script("\ud800 lone surrogate") == "Latn"


def test_close_relatives_move_only_when_fasttext_holds_them_close() -> None:
    assert related("srp_Latn", "hrv_Latn") and related("dan_Latn", "nob_Latn") and not related("srp_Latn", "srp_Cyrl")
    assert not related("eng_Latn", "mri_Latn")
    assert may_move("eng_Latn", 0.6, {}, "mri_Latn")  # outside a group: the caller's thresholds decide
    assert may_move("dan_Latn", 0.35, {"nob": 0.27}, "nob_Latn")
    assert not may_move("dan_Latn", 0.65, {"nob": 0.1}, "nob_Latn")
    # BCMS: fastText's Serbian is kept (CLD2 calls Latin Serbian Croatian or Bosnian), at any margin but the off
    assert not may_move("srp_Latn", 0.35, {"hrv": 0.34}, "hrv_Latn")
    assert not may_move("srp_Latn", 0.3, {"bos": 0.29}, "bos_Latn", margin=0.99)
    assert may_move("srp_Latn", 0.65, {"hrv": 0.1}, "hrv_Latn", margin=1.0)  # check off
    # ... towards Serbian only when fastText holds it close (lead below 0.3)
    assert may_move("hrv_Latn", 0.35, {"srp": 0.1}, "srp_Latn") and may_move("hbs_Latn", 0.5, {"srp": 0.25}, "srp_Latn")
    assert not may_move("hrv_Latn", 0.45, {"srp": 0.1}, "srp_Latn")
    # ... between Croatian, Bosnian and lid.176's sh, the group's margin
    assert may_move("hrv_Latn", 0.35, {"bos": 0.34}, "bos_Latn") and may_move("hbs_Latn", 0.4, {"hrv": 0.3}, "hrv_Latn")
    assert not may_move("hrv_Latn", 0.65, {"bos": 0.1}, "bos_Latn")
    assert may_move("slv_Latn", 0.4, {}, "hrv_Latn")  # into the group from outside: the caller's thresholds
    assert may_move("srp_Cyrl", 0.4, {"mkd": 0.3}, "mkd_Cyrl")  # Serbian is kept inside BCMS only


def test_latin_boilerplate_does_not_decide_the_script() -> None:
    menu = "Home | News | Share to Twitter | Share to Facebook | Login "  # web menus are Latin, whatever the page
    cyrillic = menu + TEXTS["srp_Cyrl"][:45]
    counts = script_counts(cyrillic)
    assert counts["Latn"] > counts["Cyrl"]  # the plain majority is Latin ...
    assert counts["Latn"] < 2 / 3 * (counts["Latn"] + counts["Cyrl"])
    out = LanguageId(second_opinion="none").process(pa.table({"text": [cyrillic]}), BlockContext()).table
    assert out.column("lang")[0].as_py() == "srp_Cyrl"  # ... but the page is Serbian in Cyrillic
    assert scripts_among([cyrillic, TEXTS["srp_Latn"], "123"], [("Cyrl", "Latn")] * 3) == ["Cyrl", "Latn", None]
    assert scripts_among([TEXTS["pnb_Arab"]], [("Guru", "Arab", "Latn")]) == ["Arab"]
    assert label_scripts("sr") == ("Cyrl", "Latn") and label_scripts("__label__srp_Latn") == ()


def test_second_opinion_keeps_latin_serbian_that_lid176_gets_right(shared_data: Path) -> None:
    """Issue 23: CLD2 turned right srp_Latn answers into Croatian or Bosnian. Every Latin Serbian document that
    lid.176 alone gets right stays right with the default second opinion, and the default gets more right."""
    latin = [doc.translate(_TO_LATIN) for doc in _serbian_documents(shared_data)]
    alone = _block("none").process(pa.table({"text": latin}), BlockContext()).table.column("lang").to_pylist()
    default = _block("auto").process(pa.table({"text": latin}), BlockContext()).table.column("lang").to_pylist()
    broken = [i for i, (a, d) in enumerate(zip(alone, default, strict=True)) if a == "srp_Latn" != d]
    assert not broken, [(alone[i], default[i]) for i in broken]
    assert default.count("srp_Latn") > alone.count("srp_Latn")


def _bcms_sentences(shared_data: Path) -> dict[str, list[str]]:
    """lingua's 1,000 Bosnian, Croatian and Serbian sentences each, the Serbian ones transliterated to Latin."""
    by: dict[str, list[str]] = {"sr": [], "hr": [], "bs": []}
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as f:
        for row in map(json.loads, f):
            if row["iso639_1"] in by:
                by[row["iso639_1"]].append(row["text"].translate(_TO_LATIN))
    return by


def _langs(setting: str, texts: list[str]) -> list[str]:
    return _block(setting).process(pa.table({"text": texts}), BlockContext()).table.column("lang").to_pylist()


def test_no_fasttext_serbian_answer_is_moved_inside_bcms(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23, on sentences (where CLD2 is asked far more often than on documents): not one Latin Serbian
    sentence lid.176 alone calls ``srp_Latn`` becomes Croatian or Bosnian with the default second opinion; the
    rule before issue 23 (any move inside BCMS under the margin) fails the same check."""
    serbian = _bcms_sentences(shared_data)["sr"]
    alone = _langs("none", serbian)

    def broken() -> list[str]:
        return [d for a, d in zip(alone, _langs("auto", serbian), strict=True)
                if a == "srp_Latn" and split_key(d)[0] in {"hrv", "bos", "hbs", "cnr"}]

    assert alone.count("srp_Latn") > 300 and not broken()
    monkeypatch.setattr(relatives, "GROUP_RULES", {})
    assert len(broken()) > 50


def test_bcms_rule_keeps_bosnian_and_croatian(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Serbian rule costs Bosnian and Croatian nothing they had with lid.176 alone, and the second opinion
    still names Bosnian, which lid.176 hardly knows (its sh is strictly wrong for all three); the first fix of
    issue 23 (moves towards Serbian only) fails it."""
    sets = _bcms_sentences(shared_data)

    def right(setting: str) -> dict[str, int]:
        return {code: sum(split_key(k)[0] == split_key(normalize_label(code))[0] for k in _langs(setting, texts))
                for code, texts in sets.items()}

    def holds(alone: dict[str, int], default: dict[str, int]) -> bool:
        return (default["bs"] >= alone["bs"] + 150 and default["hr"] >= alone["hr"]
                and default["sr"] >= alone["sr"] + 100)

    alone, default = right("none"), right("auto")
    assert holds(alone, default), (alone, default)
    monkeypatch.setattr(relatives, "GROUP_RULES",
                        {"bcms": relatives.GroupRule(towards={"srp": 0.2}, only_towards=True)})
    assert not holds(alone, right("auto"))
