"""The practice loop's messages, in English and Chinese: what `start`, `grade`, `review`,
`quiz`, `mock` and plain `drill` say. A verdict's technical details stay English.

Each entry is (English, Chinese) with the same {placeholders}; `say` picks the language
chosen (see drillcli.i18n). Commands, code and numbers are identical in both."""

from __future__ import annotations

from drillcli.i18n import language

MESSAGES: dict[str, tuple[str, str]] = {
    # start, grade
    "edit_then": ("Edit [bold]{path}[/], then {then}.  Target: {minutes} min.",
                  "编辑 [bold]{path}[/]，然后{then}。目标：{minutes} min。"),
    "then_enter": ("press [bold]Enter[/] here to grade", "在这里按 [bold]Enter[/] 评分"),
    "then_grade": ("run [bold]drill grade[/] (or [bold]drill watch[/])",
                   "运行 [bold]drill grade[/]（或 [bold]drill watch[/]）"),
    "backed_up": ("[yellow]your previous file was backed up to[/] {path}", "[yellow]你之前的文件已备份到[/] {path}"),
    "kept": ("[yellow]kept your edited file[/] {path} (`--fresh` backs it up and starts over)",
             "[yellow]保留了你编辑过的文件[/] {path}（`--fresh` 会先备份再重新开始）"),
    "resumed": ("[dim]the attempt in progress goes on; its timer kept running[/]",
                "[dim]继续进行中的尝试；计时器一直在走[/]"),
    "cases_passed": ("{passed}/{total} cases passed", "{passed}/{total} 个用例通过"),
    "not_run": ("not run: {why}", "未运行：{why}"),
    "since_start": ("{elapsed} since drill start", "自 drill start 起 {elapsed}"),
    "target": (" (target {target})", "（目标 {target}）"),
    "rated": ("rated ", "评为 "),
    "next_review": ("; next review {date} ({relative})", "；下次复习 {date}（{relative}）"),
    # plain `drill`
    "in_progress": ("in progress: {problem}  ", "进行中：{problem}  "),
    "due_today": ("due today: {problems}, about {minutes} min ({names})",
                  "今天到期：{problems}，约 {minutes} min（{names}）"),
    "nothing_due": ("nothing due today", "今天没有到期的题"),
    "concepts_due": ("concept cards due: {count} (drill quiz, or after drill review)",
                     "到期的概念卡片：{count} 张（drill quiz，或在 drill review 之后）"),
    "next": ("next: ", "下一步："),
    # review
    "review_actions": ("Enter grade · h hint · g give up (Again) · s skip · q quit",
                       "Enter 评分 · h 提示 · g 放弃（Again）· s 跳过 · q 退出"),
    "review_rule": ("review {position}: {problem}", "复习 {position}：{problem}"),
    "problems_due": ("[bold]{problems} due[/]: {names}", "[bold]{problems}到期[/]：{names}"),
    "session_done": ("[bold green]Session done.[/] `drill stats` shows where you stand.",
                     "[bold green]本轮结束。[/]`drill stats` 查看进度。"),
    "session_stopped": ("Stopped. The attempt in progress stays open: `drill review` resumes it with its file and "
                        "its clock.", "已停止。进行中的尝试保持打开：`drill review` 会带着文件和计时继续。"),
    "followup": ("follow-up {i}/{n}: {q}", "追问 {i}/{n}：{q}"),
    "answer_then_enter": ("Answer it (aloud or typed), then press Enter for the reference answer",
                          "先作答（说出来或写下来），然后按 Enter 查看参考答案"),
    "reference_answer": ("reference answer", "参考答案"),
    "how_well_followups": ("How well did you know these? (1-4)", "这些问题你掌握得如何？(1-4)"),
    "concepts_offer": ("{cards} due too. Quiz them now? [y/n]", "还有 {cards}到期。现在复习吗？[y/n]"),
    # quiz
    "quiz_answer": ("Answer it (aloud or typed), then Enter for the reference answer (q quits)",
                    "先作答（说出来或写下来），然后按 Enter 查看参考答案（q 退出）"),
    "key_points": ("key points:", "要点："),
    "which_points": ("Which did you cover? (e.g. 1 3; a = all; Enter = none)",
                     "你答到了哪些？（例如 1 3；a = 全部；Enter = 都没有）"),
    "how_well_card": ("How well did you know it? 1 Again, 2 Hard, 3 Good, 4 Easy",
                      "你掌握得如何？1 Again, 2 Hard, 3 Good, 4 Easy"),
    "concept_rule": ("concept {position}: {topic}", "概念 {position}：{topic}"),
    "quiz_done": ("[bold green]Quiz done[/]: {count} rated. `drill quiz` brings them back when due.",
                  "[bold green]测验结束[/]：已评 {count} 张。到期时 `drill quiz` 会再次出现。"),
    "quiz_stopped": ("Stopped after {count}: the cards rated so far are scheduled.",
                     "在第 {count} 张后停止：已评的卡片已排期。"),
    "card_rated": ("rated {rating}: next about {relative}", "评为 {rating}：下次约 {relative}"),
    # mock
    "mock_intro": ("mock round: {minutes} min, {count} problems ({names}), then {questions} concept questions. "
                   "No hints, no solutions.",
                   "模拟面试：{minutes} min，{count} 道编程题（{names}），之后 {questions} 道概念题。"
                   "没有提示，不能看答案。"),
    "mock_actions": ("Enter grade · n next problem · q pause", "Enter 评分 · n 下一题 · q 暂停"),
    "mock_problem": ("problem {i}/{n}: {problem} (target {minutes} min)", "编程题 {i}/{n}：{problem}（目标 {minutes} min）"),
    "mock_edit": ("Edit {path}, then press Enter to grade.", "编辑 {path}，然后按 Enter 评分。"),
    "mock_paused": ("Paused with {left} left; the clock is stopped. `drill mock --resume` continues.",
                    "已暂停，剩余 {left}；计时已停止。`drill mock --resume` 继续。"),
    "time_up": ("[bold]Time is up[/] for the coding part.", "编程部分[bold]时间到[/]。"),
    "mock_question": ("concept question {i}/{n}", "概念题 {i}/{n}"),
}


NOUNS = {"problem": (("problem", "problems"), "道题"), "card": (("concept card", "concept cards"), "张概念卡片")}


def noun(count: int, key: str) -> str:
    """'1 problem', '3 problems'; '3 道题'."""
    (one, many), chinese = NOUNS[key]
    return f"{count} {chinese}" if language() == "zh" else f"{count} {one if count == 1 else many}"


def say(key: str, **values: object) -> str:
    english, chinese = MESSAGES[key]
    return (chinese if language() == "zh" else english).format(**values)
