"""Make clean generated sentences look typed by real customers.

Typos (homophone swaps, dropped or doubled characters), occasional traditional characters,
full-width/half-width mixing, missing punctuation, English chat spelling, and personal data
(phone numbers in many spellings, e-mail addresses) that PII masking must catch.
"""

from __future__ import annotations

import random

#: Common homophone / near-homophone confusions in typed Chinese.
HOMOPHONES = {
    "的": "得",
    "得": "的",
    "在": "再",
    "再": "在",
    "账": "帐",
    "已": "以",
    "那": "哪",
    "做": "作",
    "像": "象",
    "吗": "嘛",
    "么": "麽",
    "吧": "叭",
    "了": "啦",
    "没": "木",
    "什": "神",
    "真": "zhen",
    "网": "往",
    "信": "新",
    "号": "好",
    "费": "废",
}
#: Simplified -> traditional for characters customers in HK/TW (or with such IMEs) type.
TRADITIONAL = str.maketrans(
    "网话费线号说这么没来时间电视频务机宽带题们还个过让为钱单账经断"
    "师约问给处办营业厅气烦头应该联系发现里欢当难实点",
    "網話費線號說這麼沒來時間電視頻務機寬帶題們還個過讓為錢單賬經斷"
    "師約問給處辦營業廳氣煩頭應該聯係發現裡歡當難實點",
)
_TO_FULL = str.maketrans("!,?:;()0123456789", "！，？：；（）０１２３４５６７８９")
_TO_HALF = str.maketrans("！，？：；（）", "!,?:;()")
_ZH_ENDINGS = ("！！！", "!!!", "。。。", "...", "？？", "啊啊啊", "!!")
_EN_SLANG = (
    ("you", "u"),
    ("please", "pls"),
    ("please", "plz"),
    ("because", "cuz"),
    ("thanks", "thx"),
    ("your", "ur"),
    ("are", "r"),
    ("really", "rly"),
    ("internet", "interent"),
    ("signal", "singal"),
    ("the", "teh"),
    ("I'm", "im"),
    ("don't", "dont"),
    ("can't", "cant"),
)
_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "172",
    "178",
    "182",
    "183",
    "184",
    "187",
    "188",
    "195",
    "198",
)
_MAIL = ("163.com", "qq.com", "126.com", "gmail.com", "hotmail.com", "139.com", "sina.com")


def phone_number(rnd: random.Random) -> str:
    """Return a mobile or landline number in one of the many spellings people use."""
    mobile = rnd.choice(_PREFIXES) + f"{rnd.randrange(10**8):08d}"
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    style = rnd.randrange(11)
    if style == 0:
        return f"{a} {b} {c}"
    if style == 1:
        return f"{a}-{b}-{c}"
    if style == 2:
        return f"+86-{a}-{b}-{c}"
    if style == 3:
        return f"+86 {a} {b} {c}"
    if style == 4:
        return f"+86{mobile}"
    if style == 5:
        return mobile.translate(_TO_FULL)
    if style == 6:
        return f"(+86){mobile}"
    if style == 7:
        area = rnd.choice(("010", "021", "0571", "020", "0755", "028"))
        return f"{area}-{rnd.randrange(10**7, 10**8)}"
    if style == 8:
        return f"{a}{b} {c}"
    return mobile


def email_address(rnd: random.Random) -> str:
    """Return a plausible personal e-mail address."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    name = "".join(rnd.choice(letters) for _ in range(rnd.randint(3, 8)))
    if rnd.random() < 0.6:
        name += str(rnd.randrange(10, 9999))
    return f"{name}@{rnd.choice(_MAIL)}"


def _swap_adjacent(text: str, rnd: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rnd.randrange(len(text) - 1)
    if not (text[i].isalpha() and text[i + 1].isalpha()):
        return text
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def zh_noise(text: str, rnd: random.Random) -> str:
    """Apply Chinese typing noise: homophones, traditional characters, width mixing."""
    r = rnd.random()
    if r < 0.25:
        positions = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
        if positions:
            i = rnd.choice(positions)
            text = text[:i] + HOMOPHONES[text[i]] + text[i + 1 :]
    elif r < 0.32:
        text = _swap_adjacent(text, rnd)
    if rnd.random() < 0.06:
        text = text.translate(TRADITIONAL)
    elif rnd.random() < 0.05:
        cut = rnd.randrange(len(text) + 1)
        text = text[:cut] + text[cut:].translate(TRADITIONAL)
    w = rnd.random()
    if w < 0.25:
        text = text.translate(_TO_HALF)
    elif w < 0.35:
        text = text.translate(_TO_FULL)
    if rnd.random() < 0.1:
        text = text.replace("WiFi", "ＷＩＦＩ").replace("wifi", "Wifi").replace("5G", "５G")
    if rnd.random() < 0.2:
        text = text.rstrip("。！!，, ")
    elif rnd.random() < 0.15:
        text = text.rstrip("。") + rnd.choice(_ZH_ENDINGS)
    if rnd.random() < 0.08:
        text = text.replace("，", " ").replace(",", " ")
    return text


def en_noise(text: str, rnd: random.Random) -> str:
    """Apply English chat noise: slang spellings, typos, lower case, shouting, no punctuation."""
    if rnd.random() < 0.3:
        old, new = rnd.choice(_EN_SLANG)
        text = text.replace(f" {old} ", f" {new} ", 1)
    if rnd.random() < 0.2:
        words = text.split(" ")
        i = rnd.randrange(len(words))
        words[i] = _swap_adjacent(words[i], rnd)
        text = " ".join(words)
    if rnd.random() < 0.1:
        words = text.split(" ")
        i = rnd.randrange(len(words))
        if len(words[i]) > 4:
            j = rnd.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1 :]
        text = " ".join(words)
    c = rnd.random()
    if c < 0.35:
        text = text.lower()
    elif c < 0.42:
        text = text.upper()
    elif c < 0.6 and text:
        text = text[0].upper() + text[1:]
    if rnd.random() < 0.25:
        text = text.rstrip(".!, ")
    elif rnd.random() < 0.15:
        text = text.rstrip(".") + rnd.choice(("!!!", "??", "...", "!!1", " :("))
    return text
