"""Make boardcc/samples/prompts/*.wav (the sample site's prompts) and ivr_flows/prompts/.

The IVR prompt sets (ivr_flows/prompts/zh/ and en/) hold what the sample flows say and one
short file per word that reading numbers needs (`boardcc.ivr.numbers.VOCABULARY`: digits,
十百千万亿, 两, 幺, 点, 元角分, 年月日, "hundred", "cents", month names ...). Words are cut tight
(no silence around them) so that numbers read as one phrase.

`boardcc init` copies them next to the site file it writes, where an installer replaces
them with the site's own recordings. Each is a short espeak-ng greeting, Mandarin then
English, at a level a telephone line carries well (-18 dBm0), stored as 8 kHz mono A-law
WAV: the format voice boards play, and half the size of 16-bit PCM. Run from the
repository root with espeak-ng installed:

    .venv/bin/python scripts/make_prompts.py          # both
    .venv/bin/python scripts/make_prompts.py ivr      # only the IVR prompt sets
"""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

from boardcc.dsp.audio import write_audio
from boardcc.dsp.levels import level_dbm0
from boardcc.dsp.signals import to_int16
from boardcc.ivr.numbers import VOCABULARY
from boardcc.ivr_flows import FLOWS_DIR

FS = 8000
OUT = Path(__file__).resolve().parent.parent / "boardcc" / "samples" / "prompts"

#: Prompt name: what it says, in Mandarin and in English.
PROMPTS = {
    "welcome": ("您好，欢迎致电。", "Hello, welcome."),
    "closed": ("现在已下班，请稍后再拨。", "We are closed. Please call later."),
}


#: What the sample flows in ivr_flows/ say: prompt name -> (Mandarin, English).
IVR_PROMPTS = {
    "choose_language": ("中文服务请按1。", "For English, press 2."),
    "welcome": ("您好，欢迎致电服务热线。", "Welcome to the service hotline."),
    "main_menu": (
        "自助查询请按1，购物咨询请按2，人工服务请按0。",
        "For self service, press 1. For shopping, press 2. For an agent, press 0.",
    ),
    "main_menu_short": ("请按1、2或0。", "Please press 1, 2 or 0."),
    "self_menu": (
        "查询余额请按1，查询订单请按2，返回请按星号键。",
        "For your balance, press 1. For an order, press 2. To go back, press star.",
    ),
    "invalid": ("输入有误。", "Sorry, that is not a valid choice."),
    "no_input": ("没有听到您的按键。", "Sorry, we did not hear a key."),
    "balance_is": ("您的账户余额为", "Your balance is"),
    "no_account": ("没有找到您的账户。", "We could not find your account."),
    "enter_order": (
        "请输入订单号，以井号键结束。",
        "Please enter your order number, then the hash key.",
    ),
    "order_shipped": ("您的订单已于以下日期发货：", "Your order was shipped on"),
    "order_pending": ("您的订单正在处理中。", "Your order is being processed."),
    "order_not_found": ("没有找到这个订单。", "We could not find that order."),
    "system_busy": ("系统繁忙，请稍后再试。", "The system is busy. Please try again later."),
    "transferring": ("正在为您转接人工服务，请稍候。", "Please hold for an agent."),
    "agents_busy": ("座席全忙，请稍后再拨。", "All agents are busy. Please call again later."),
    "goodbye": ("感谢您的来电，再见。", "Thank you for calling. Goodbye."),
    "closed": ("现在是非工作时间。我们早上", "We are closed now. We open at"),
    "opening": ("开始服务，请在工作时间再拨。", "Please call again during working hours."),
    "survey_ask": (
        "请为本次服务打分，一到五分，五分为非常满意。",
        "Please rate our service from 1 to 5, 5 being very satisfied.",
    ),
    "survey_thanks": ("谢谢您的评价。", "Thank you for your rating."),
}
VOICES = {"zh": "cmn", "en": "en-us"}


def speech(text: str, voice: str, dbm0: float) -> npt.NDArray[np.float64]:
    """`text` spoken by espeak-ng's `voice` at 8 kHz, at `dbm0`, without the silence
    espeak-ng puts around it (the pauses are set in `main`)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "180", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    data, rate = sf.read(BytesIO(wav), dtype="float64")
    x = np.asarray(resample_poly(data, FS, rate), dtype=np.float64)
    heard = np.flatnonzero(np.abs(x) > 1e-3)
    x = x[heard[0] : heard[-1] + 1]
    gain: float = 10 ** ((dbm0 - level_dbm0(x)) / 20)
    return x * gain


def silence(seconds: float) -> npt.NDArray[np.float64]:
    return np.zeros(int(seconds * FS))


def ivr_sets() -> None:
    """ivr_flows/prompts/<lang>/: the sample flows' prompts and the number words."""
    for k, lang in enumerate(("zh", "en")):
        folder = FLOWS_DIR / "prompts" / lang
        folder.mkdir(parents=True, exist_ok=True)
        texts = {name: pair[k] for name, pair in IVR_PROMPTS.items()}
        # The language menu is heard before a language is chosen: both languages in it.
        texts["choose_language"] = " ".join(IVR_PROMPTS["choose_language"])
        for name, text in texts.items():
            if name == "choose_language":
                zh, en = IVR_PROMPTS[name]
                audio = np.concatenate(
                    [speech(zh, "cmn", -18), silence(0.3), speech(en, "en-us", -18), silence(0.2)]
                )
            else:
                audio = np.concatenate([speech(text, VOICES[lang], -18), silence(0.2)])
            write_audio(folder / f"{name}.wav", to_int16(audio), fs=FS, codec="alaw")
        for word, text in VOCABULARY[lang].items():
            audio = speech(text, VOICES[lang], -18)
            write_audio(folder / f"{word}.wav", to_int16(audio), fs=FS, codec="alaw")
        print(f"wrote {folder} ({len(texts) + len(VOCABULARY[lang])} prompts)")


def main() -> None:
    if sys.argv[1:] == ["ivr"]:
        ivr_sets()
        return
    ivr_sets()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (chinese, english) in PROMPTS.items():
        parts = [
            silence(0.2),
            speech(chinese, "cmn", -18),
            silence(0.5),
            speech(english, "en-us", -18),
            silence(0.2),
        ]
        audio = np.concatenate(parts)
        path = OUT / f"{name}.wav"
        write_audio(path, to_int16(audio), fs=FS, codec="alaw")
        print(f"wrote {path} ({len(audio) / FS:.1f} s)")


if __name__ == "__main__":
    main()
