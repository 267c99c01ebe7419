"""Text-ingest throughput: TextLinker.analyse_batch (with embeddings) vs bare encode.

Both run side by side in one process on the same ~2,000 realistic zh/en complaint texts, built
from a small phrase grammar below (handles, emoticons, phone numbers, traditional characters,
full-width letters, negated and resolved complaints). Runs alternate (bare, linker, bare, ...)
and medians are reported, so machine noise hits both alike. Prints a markdown table row:

    python bench/text_ingest.py --texts 2000

Two measurement modes back design choices in ``needgraph.ingest.text``:

    python bench/text_ingest.py --matchers   # token PhraseMatcher vs character scan recall
    python bench/text_ingest.py --fallback   # embedding fallback precision/recall, zh and en
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime

os.environ["HF_HUB_OFFLINE"] = "1"

ZH_SUBJECT = ["宽带", "家里的网", "手机", "5G", "WiFi", "机顶盒", "你们的网络", "家宽", "手机信号"]
ZH_COMPLAINT = [
    "一到晚上就卡",
    "老掉线",
    "经常断网",
    "网速慢得要死",
    "没信号",
    "信号差",
    "卡成PPT",
    "看视频一直转圈",
    "打电话老是断",
    "测速不达标",
    "电梯里没信号",
    "光猫红灯",
    "隔一堵墙就没网",
    "动不动就断",
    "打游戏延迟高",
    "不是一般的卡",
    "卡得不行",
    "话费翻倍了",
    "乱扣费",
    "被限速了",
]
ZH_TAIL = [
    "打了10086三次都没人管",
    "报修一个星期了还没人来",
    "客服态度很差",
    "再这样就转网了",
    "你们管不管",
    "已经第三次投诉了",
    "到底什么时候修好",
    "",
    "",
    "",
]
ZH_RESOLVED = ["现在不卡了", "已经修好了，谢谢", "问题解决了", "这两天没有再掉线", "不再扣费了"]
EN_SUBJECT = [
    "my home internet",
    "the wifi",
    "my 5G",
    "the broadband",
    "my phone signal",
    "the TV box",
]
EN_COMPLAINT = [
    "keeps dropping",
    "is slow in the evening",
    "lags at night",
    "has no bars indoors",
    "keeps cutting out",
    "is crawling again",
    "freezes during the match",
    "drops every few hours",
    "is way below the speed I pay for",
    "doesn't reach the bedroom",
]
EN_TAIL = [
    "called support twice and nothing happened",
    "this is ridiculous",
    "fix it please",
    "thinking of switching",
    "",
    "",
]
EN_RESOLVED = ["issue resolved", "works fine now", "no longer dropping", "fixed now, thanks"]
HANDLES = ["@中国移动10086 ", "@中国电信 ", "@China_Mobile ", "", "", ""]
EMOTICONS = ["[怒]", "[怒][怒]", "[呵呵]", "[微笑]", "[抓狂]", "😡", "", "", ""]
BANG = ["！！！", "？？？", "。。。", "!!", "...", "", "，"]


TRADITIONAL = str.maketrans("宽带网络断线话费电视没设备机顶盒", "寬帶網絡斷線話費電視沒設備機頂盒")


def _phone(rng: random.Random) -> str:
    digits = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
    style = rng.randrange(4)
    if style == 0:
        return digits
    if style == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _when_zh(rng: random.Random) -> str:
    return rng.choice(
        [
            f"已经{rng.randint(2, 30)}天了",
            f"从{rng.randint(1, 28)}号开始",
            f"昨晚{rng.randint(7, 11)}点",
            f"这{rng.choice(['周', '个月', '两天'])}",
            f"在{rng.choice(['小区', '公司', '老家', '学校', '地铁上', '卧室'])}",
            "",
        ]
    )


def _when_en(rng: random.Random) -> str:
    return rng.choice(
        [
            f"for {rng.randint(2, 30)} days",
            f"since {rng.choice(['Monday', 'Friday', 'last week', 'the upgrade', 'we moved'])}",
            f"every night around {rng.randint(7, 11)}pm",
            f"in the {rng.choice(['bedroom', 'office', 'basement', 'kitchen', 'garden'])}",
            "",
        ]
    )


def make_texts(n: int, seed: int = 0) -> list[str]:
    """Return ``n`` complaint texts, about two thirds Chinese, nearly all distinct."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        phone = f" 我电话{_phone(rng)}" if rng.random() < 0.2 else ""
        if rng.random() < 0.66:
            body = _when_zh(rng) + rng.choice(ZH_SUBJECT) + rng.choice(ZH_COMPLAINT)
            body += rng.choice(BANG) + rng.choice(ZH_TAIL) + rng.choice(EMOTICONS)
            if rng.random() < 0.15:
                body += "，" + rng.choice(ZH_RESOLVED)
            text = rng.choice(HANDLES) + body + phone
            if rng.random() < 0.15:  # traditional characters
                text = text.translate(TRADITIONAL)
        else:
            body = f"{rng.choice(EN_SUBJECT)} {rng.choice(EN_COMPLAINT)} {_when_en(rng)}"
            body = body.strip() + rng.choice(BANG[3:]) + " " + rng.choice(EN_TAIL)
            if rng.random() < 0.15:
                body += ", " + rng.choice(EN_RESOLVED)
            text = rng.choice(HANDLES[2:]) + body + (" call me " + _phone(rng) if phone else "")
        texts.append(text.strip())
    return texts


def throughput(args: argparse.Namespace) -> None:
    """Texts/s of analyse_batch vs bare encode of the raw (and of the normalised) texts."""
    from needgraph.ingest.text import Lexicon, SentenceTransformerEmbedder, TextLinker
    from needgraph.ingest.text.normalise import normalise_text
    from needgraph.ontology.files import read_ontology

    texts = make_texts(args.texts, args.seed)
    normalised = [normalise_text(t).text for t in texts]
    embedder = SentenceTransformerEmbedder(args.model, batch_size=args.batch_size)
    linker = TextLinker(Lexicon.from_ontology(read_ontology()), embedder)
    model = embedder._load()  # the very SentenceTransformer the linker uses

    def encode(strings: list[str]) -> None:
        model.encode(
            strings,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    runs = {
        "bare": lambda: encode(texts),
        "linker": lambda: linker.analyse_batch(texts, batch_size=args.batch_size),
        "bare_normalised": lambda: encode(normalised),
    }
    linker.analyse_batch(texts[:128], batch_size=args.batch_size)  # warm-up: pipelines, labels
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    rate = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
    results = linker.analyse_batch(texts[:500])
    linked_share = sum(1 for r in results if r.current_causes()) / len(results)
    fallback = sum(1 for r in results for m in r.mentions if m.method == "embedding")
    print(
        "| date | machine | texts | analyse_batch texts/s | bare encode texts/s | ratio "
        "| bare encode of normalised texts/s | ratio to it |"
    )
    print("|---|---|---|---|---|---|---|---|")
    machine = f"{platform.machine()} {os.cpu_count()} cpu"
    print(
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine} | {len(texts)} | {rate['linker']:.1f} | "
        f"{rate['bare']:.1f} | {rate['linker'] / rate['bare']:.2f} | "
        f"{rate['bare_normalised']:.1f} | {rate['linker'] / rate['bare_normalised']:.2f} |"
    )
    print(
        f"\nmedians of {args.repeats} alternating runs, batch size {args.batch_size}; "
        f"of 500 texts {linked_share:.0%} got a current cause, {fallback} embedding mentions"
    )


def matchers(args: argparse.Namespace) -> None:
    """Recall of the zh token PhraseMatcher vs the character scan on planted surface forms."""
    from needgraph.ingest.text import Lexicon
    from needgraph.ingest.text.lexicon import fold_view, match_form
    from needgraph.ingest.text.normalise import normalise_text
    from needgraph.ingest.text.pipeline import get_pipelines
    from needgraph.ontology.files import read_ontology

    lexicon = Lexicon.from_ontology(read_ontology())
    pipes = get_pipelines(lexicon)
    spacy = __import__("spacy")
    from spacy.matcher import PhraseMatcher

    zh = pipes.nlp["zh"]
    matcher = PhraseMatcher(zh.vocab, attr="LOWER")
    for surface in sorted({e.surface for e in lexicon.entries if e.lang == "zh"}):
        matcher.add(match_form(surface), [zh.make_doc(normalise_text(surface).text)])
    pre = ["我", "你们", "在", "老是", "家里", "都"]
    post = ["了", "里", "得很", "啊", "是怎么回事"]
    cases = [
        (normalise_text(a + e.surface + b).text, match_form(e.surface))
        for e in lexicon.entries
        if e.lang == "zh"
        for a in pre
        for b in post
    ]
    tok_hits = chr_hits = 0
    t_tok = t_chr = 0.0
    for text, form in cases:
        start = time.perf_counter()
        doc = zh(text)
        found = {zh.vocab.strings[k] for k, _s, _e in matcher(doc)}
        t_tok += time.perf_counter() - start
        tok_hits += form in found
        start = time.perf_counter()
        view, offsets = fold_view(text)
        chr_hits += form in {h.form for h in pipes.chars.scan(view, offsets)}
        t_chr += time.perf_counter() - start
    n = len(cases)
    print(f"spaCy {spacy.__version__}; {n} planted zh forms")
    print(f"token PhraseMatcher recall {tok_hits / n:.3f} ({t_tok / n * 1e3:.3f} ms/text)")
    print(f"character scan recall     {chr_hits / n:.3f} ({t_chr / n * 1e3:.3f} ms/text)")

    # English: inflected variants of cause labels (keeps -> kept/keep, dropping -> drops/dropped)
    variants = [
        (f"honestly my {v} again", e.concept_id)
        for e in lexicon.entries
        if e.lang == "en" and e.kind == "Cause"
        for v in _inflections(e.surface)
    ]
    tok_hits = chr_hits = 0
    texts = [t for t, _c in variants]
    for (text, concept), tokenized in zip(variants, pipes.tokenize(texts, "en"), strict=True):
        forms = {h.form for h in tokenized.hits}
        tok_hits += any(concept in {x.concept_id for x in pipes.chars.forms[f]} for f in forms)
        view, offsets = fold_view(text)
        found = {h.form for h in pipes.chars.scan(view, offsets)}
        chr_hits += any(concept in {x.concept_id for x in pipes.chars.forms[f]} for f in found)
    n = len(variants)
    print(f"\n{n} inflected English cause labels")
    print(f"PhraseMatcher on NORM (stem) recall {tok_hits / n:.3f}")
    print(f"character scan (exact) recall       {chr_hits / n:.3f}")


def _inflections(surface: str) -> set[str]:
    words, out = surface.split(), set()
    for i, word in enumerate(words):
        w = word.lower()
        alts: list[str] = []
        if w == "keeps":
            alts = ["kept", "keep"]
        elif w.endswith("ing") and len(w) > 5:
            base = w[:-4] if len(w) > 6 and w[-4] == w[-5] else w[:-3]
            alts = [base + "s", w[:-3] + "ed"]
        elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            alts = [w[:-1]]
        elif w.endswith("ed") and len(w) > 4:
            alts = [w[:-2] + "ing", w[:-1]]
        out.update(" ".join([*words[:i], a, *words[i + 1 :]]) for a in alts)
    return out


# Paraphrases (no surface form of the ontology in them) -> acceptable concepts; non-complaints.
EN_POS: list[tuple[str, set[str]]] = [
    (
        "the internet gets painfully slow every night around 9",
        {"cause.evening_congestion", "need.stable_evening_broadband"},
    ),
    (
        "my home connection disconnects several times a day",
        {"cause.broadband_disconnection", "need.reliable_broadband_connection"},
    ),
    (
        "the wifi signal never reaches the back bedroom",
        {"cause.wifi_dead_zone", "need.whole_home_wifi"},
    ),
    (
        "I barely have any reception inside my apartment",
        {"cause.weak_indoor_coverage", "need.indoor_signal"},
    ),
    (
        "my phone calls get cut off in the middle",
        {"cause.dropped_calls", "need.reliable_voice_calls"},
    ),
    (
        "this month's bill was almost double what I expected",
        {"cause.bill_shock", "cause.bill_shock_extra_data", "need.predictable_bill"},
    ),
    ("I was charged for roaming on my trip abroad", {"cause.roaming_charges"}),
    (
        "they charged me for a subscription service I never signed up for",
        {"cause.unrequested_vas_charges", "need.no_unauthorized_charges"},
    ),
    (
        "the engineer never showed up for the appointment",
        {"cause.missed_appointment", "cause.slow_repair_response"},
    ),
    (
        "I waited on hold for over an hour",
        {"cause.long_hotline_wait", "need.reachable_customer_service"},
    ),
    (
        "the support agent was really rude to me",
        {"cause.rude_agent", "need.respectful_service", "cause.service_experience"},
    ),
    (
        "I have complained four times and nothing has been done",
        {"cause.repeated_unresolved_complaint", "need.first_contact_resolution"},
    ),
    (
        "another company offers twice the data for the same price",
        {"cause.competitor_more_data", "cause.competitor_offer", "cause.competitor_attraction"},
    ),
    (
        "my plan is way too expensive for what I get",
        {"cause.price_too_high", "cause.price_value", "need.value_for_money"},
    ),
    (
        "I run out of data halfway through the month",
        {"cause.insufficient_data_allowance", "need.enough_data_fair_price"},
    ),
    ("the price went up as soon as the promotion ended", {"cause.promotion_expiry_price_increase"}),
    ("it is impossible to cancel my contract", {"cause.hard_to_cancel", "cause.contract_lock_in"}),
    ("the tv box freezes during football matches", {"cause.iptv_stutter", "need.smooth_iptv"}),
    (
        "online games have terrible lag on your network",
        {"cause.cross_network_access_slow", "need.low_latency_access"},
    ),
    (
        "there is no signal at all on the subway",
        {"cause.transit_coverage_gap", "need.coverage_everywhere"},
    ),
    (
        "I keep getting scam calls every day",
        {"cause.spam_fraud_calls", "need.protection_from_spam"},
    ),
    (
        "my speed test shows 20 megabits on a 300 plan",
        {"cause.broadband_speed_below_contract", "need.fast_broadband_speed"},
    ),
    ("the router is very old and overheats", {"cause.outdated_home_gateway"}),
    ("the 5G icon almost never shows up", {"cause.coverage_gap_5g", "need.good_5g_experience"}),
    ("the sales rep lied about the contract terms", {"cause.misleading_sales"}),
    ("they keep calling me to sell new plans", {"cause.excessive_marketing_contact"}),
    (
        "new customers get much better deals than loyal ones",
        {"cause.new_customer_favoritism", "need.loyalty_recognition"},
    ),
    ("mobile data is painfully slow in town", {"cause.slow_mobile_data", "need.fast_mobile_data"}),
    ("the whole neighbourhood lost internet yesterday", {"cause.network_outage"}),
    ("installation took three weeks", {"cause.slow_installation", "need.timely_installation"}),
]
EN_NEG = [
    "thank you for your help",
    "I called yesterday afternoon",
    "please call me back tomorrow",
    "my account number is below",
    "I have been a customer for ten years",
    "what are your opening hours",
    "ok got it",
    "I live in Shenzhen",
    "my wife uses the same plan",
    "can you check my order status",
    "good morning",
    "I will wait for your reply",
    "this is my third message",
    "I bought a new phone last week",
    "the weather is nice today",
    "see attached screenshot",
    "hello is anyone there",
    "I moved here last year",
    "we have two kids",
    "my name is Li",
]
ZH_POS: list[tuple[str, set[str]]] = [
    ("晚上九点以后网页都打不开", {"cause.evening_congestion", "need.stable_evening_broadband"}),
    (
        "家里的网一天断好几次",
        {"cause.broadband_disconnection", "need.reliable_broadband_connection"},
    ),
    ("卧室里连不上无线网", {"cause.wifi_dead_zone", "need.whole_home_wifi"}),
    ("在屋里手机几乎收不到信号", {"cause.weak_indoor_coverage", "need.indoor_signal"}),
    (
        "这个月话费比平时多了一倍",
        {"cause.bill_shock", "cause.bill_shock_extra_data", "need.predictable_bill"},
    ),
    ("出国回来收到一大笔漫游费", {"cause.roaming_charges"}),
    (
        "莫名其妙开通了一个包月业务",
        {"cause.unrequested_vas_charges", "need.no_unauthorized_charges"},
    ),
    ("约好的师傅一直没来", {"cause.missed_appointment", "cause.slow_repair_response"}),
    (
        "客服电话等了一个小时都没人接",
        {"cause.long_hotline_wait", "need.reachable_customer_service"},
    ),
    (
        "客服态度非常恶劣",
        {
            "cause.rude_agent",
            "need.respectful_service",
            "cause.service_experience",
            "cause.provider_attitude",
        },
    ),
    (
        "投诉了好几次一直没有处理",
        {"cause.repeated_unresolved_complaint", "need.first_contact_resolution"},
    ),
    (
        "别的运营商同样价格流量多一倍",
        {"cause.competitor_more_data", "cause.competitor_offer", "cause.competitor_attraction"},
    ),
    ("月租太贵了用不起", {"cause.price_too_high", "cause.price_value", "need.value_for_money"}),
    ("流量每个月都不够用", {"cause.insufficient_data_allowance", "need.enough_data_fair_price"}),
    ("优惠期一过月费就涨了", {"cause.promotion_expiry_price_increase"}),
    ("想销户办不了", {"cause.hard_to_cancel", "cause.contract_lock_in"}),
    ("看球赛的时候电视一直缓冲", {"cause.iptv_stutter", "need.smooth_iptv"}),
    ("每天都接到诈骗电话", {"cause.spam_fraud_calls", "need.protection_from_spam"}),
    ("装宽带等了三个星期", {"cause.slow_installation", "need.timely_installation"}),
    ("手机上网速度特别慢", {"cause.slow_mobile_data", "need.fast_mobile_data"}),
]
ZH_NEG = [
    "谢谢你们的帮助",
    "我昨天下午打过电话",
    "麻烦明天给我回个电话",
    "我是老用户了",
    "你们营业厅几点开门",
    "好的知道了",
    "我住在深圳",
    "我老婆也用的这个套餐",
    "帮我查一下订单",
    "早上好",
    "等你们回复",
    "这是我第三次发消息",
    "我上周买了新手机",
    "今天天气不错",
    "看截图",
    "在吗有人吗",
    "我去年搬过来的",
    "家里有两个孩子",
    "我姓李",
    "请尽快联系我",
]


def fallback_quality(args: argparse.Namespace) -> None:
    """Precision and recall of the embedding fallback's nearest concept, per language."""
    from needgraph.ingest.text import Lexicon, SentenceTransformerEmbedder
    from needgraph.ingest.text.fallback import LabelEmbeddings
    from needgraph.ontology.files import read_ontology

    embedder = SentenceTransformerEmbedder(args.model)
    index = LabelEmbeddings(Lexicon.from_ontology(read_ontology()), embedder, ("Cause", "Need"))
    for lang, pos, neg in (("en", EN_POS, EN_NEG), ("zh", ZH_POS, ZH_NEG)):
        texts = [t for t, _ in pos] + neg
        near = index.nearest(embedder.encode(texts), [lang] * len(texts))
        rows = [
            (n.similarity, n.margin, n.concept_id in gold)
            for (_t, gold), n in zip(pos, near, strict=False)
            if n is not None
        ]
        rows += [(n.similarity, n.margin, False) for n in near[len(pos) :] if n is not None]
        right = [r[0] for r in rows[: len(pos)] if r[2]]
        print(
            f"{lang}: top-1 right {len(right)}/{len(pos)}; mean cosine right "
            f"{statistics.mean(right or [0]):.2f}, non-complaints "
            f"{statistics.mean(r[0] for r in rows[len(pos) :]):.2f}"
        )
        for threshold in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
            taken = [r for r in rows if r[0] >= threshold and r[1] >= 0.02]
            good = sum(r[2] for r in taken)
            print(
                f"  threshold {threshold:.2f}, margin 0.02: linked {len(taken)}, right {good}, "
                f"precision {good / max(1, len(taken)):.2f}, recall {good / len(pos):.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="default: NEEDGRAPH_EMBEDDING_MODEL")
    parser.add_argument("--matchers", action="store_true", help="measure matcher recall")
    parser.add_argument("--fallback", action="store_true", help="measure embedding fallback")
    args = parser.parse_args()
    if args.matchers:
        matchers(args)
    elif args.fallback:
        fallback_quality(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
