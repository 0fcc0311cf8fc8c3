"""The check itself, on a lexicon built in the test (no database)."""

from __future__ import annotations

import pytest

from kefu.norms.check import RuleData, compile_rules, inside_longer_word, run_check
from kefu.norms.normalize import compact

LEX = compile_rules(
    [
        RuleData(1, "banned", "block", "别再来问了", "如您还有问题欢迎随时联系我们"),
        RuleData(2, "banned", "block", "有病", "请问还有什么可以帮您"),
        RuleData(3, "rhetorical", "warn", "你不会…吗", "我来为您说明"),
        RuleData(4, "colloquial", "warn", "嗯嗯", "好的", applies_to="online"),
        RuleData(5, "shirking", "warn", "自己查", "我帮您核实", exceptions=("自己查询",)),
    ],
    version=7,
)


def check(text: str, channel: str = "ticket"):
    return run_check(text, LEX, channel=channel)


@pytest.mark.parametrize(
    "text",
    [
        "别再来问了",
        "别 再 来 问 了",
        "别*再-来_问.了",
        "別再來問了",  # traditional
        "ｂ别再来问了！！！！",  # full-width letter before, repeated punctuation after
        "别\u200b再来问了",  # zero-width space
        "好的。别再来问了？？？",
    ],
)
def test_disguised_banned_phrase_is_blocked_and_shown_as_typed(text):
    result = check(text)
    assert result.blocked
    hit = result.of("block")[0]
    assert hit.pattern == "别再来问了"
    assert hit.suggestion == "如您还有问题欢迎随时联系我们"
    assert text[hit.start : hit.end] == hit.phrase
    assert compact(hit.phrase).text == "别再来问了"
    assert result.version == 7


def test_banned_word_inside_a_longer_word_is_no_hit():
    assert check("请确认您的终端是否有病毒防护软件拦截。").clean
    assert check("你有病吧").blocked


def test_gap_pattern_warns_within_one_sentence_only():
    assert check("你不会自己看说明书吗？").warned
    assert not check("你不会被扣费。请问还有其他问题吗？").warned


def test_online_only_rule_applies_to_chat_only():
    assert check("嗯嗯，我帮您看一下", channel="chat").warned
    assert check("嗯嗯，我帮您看一下", channel="ticket").clean


def test_exception_word_is_no_hit():
    assert check("您可以在客户端自己查询账单。").clean
    assert check("你自己查吧").warned


def test_one_hit_per_rule_blocks_listed_first():
    result = check("你不会看吗？别再来问了！别再来问了！")
    assert [h.rule_id for h in result.hits] == [1, 3]


def test_inside_longer_word_uses_jieba_boundaries():
    assert inside_longer_word("有病毒", 0, 2)
    assert not inside_longer_word("你有病吧", 1, 3)


def test_clean_reply():
    assert check("您好，您反映的无法入会问题已记录，我们核实后会尽快答复您。").clean


BOUNDARY_LEX = compile_rules(
    [
        RuleData(1, "banned", "block", "没看见我正忙", "请您稍等"),
        RuleData(2, "scolding", "warn", "你自己弄", "我来为您说明"),
        RuleData(3, "shirking", "warn", "自己看", "我来为您说明"),
        RuleData(4, "shirking", "warn", "自己去看", "我来为您说明"),
        RuleData(5, "banned", "block", "有病", "请问还有什么可以帮您"),
    ],
    version=1,
)


@pytest.mark.parametrize(
    "text",
    [
        "没看见我正忙着呢",  # aspect particle glued to the last character (忙着)
        "你自己弄丢的密码",  # resultative complement of blame (弄丢)
        "自己看看说明书",  # the last character doubled (看看)
        "自己去看官方文档",
    ],
)
def test_phrase_glued_to_a_particle_or_complement_is_still_a_hit(text):
    assert not run_check(text, BOUNDARY_LEX, channel="ticket").clean


@pytest.mark.parametrize(
    "text",
    [
        "终端有病毒防护软件",
        "请问您自己看到的画面是黑屏吗",
        "您可以把自己看法写在备注里",
        "这是您自己看中的套餐",
    ],
)
def test_phrase_inside_a_longer_word_is_still_no_hit(text):
    assert run_check(text, BOUNDARY_LEX, channel="ticket").clean


def test_overlap_is_read_in_favour_of_the_phrase_only_when_the_other_word_is_as_common():
    # 看到 is a word and 到的 is not: no other reading, so 自己看 stays inside 看到
    assert inside_longer_word("自己看到的", 0, 3)
    # 着 glued to 忙: the phrase counts as written
    assert not inside_longer_word("我正忙着呢", 0, 3)
    # jieba reads 弄清楚, but 清楚 is as common a word: 你自己弄 counts as written
    assert not inside_longer_word("你自己弄清楚", 0, 4)
    assert not run_check("你自己弄清楚", BOUNDARY_LEX, channel="ticket").clean
