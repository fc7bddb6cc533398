"""The one Telegram budget is pure: a fake clock, no sleeping; what it lets go stays within
30 a second, one a second per private chat and 20 a minute per group, and obeys retry_after."""

from __future__ import annotations

from collections import Counter

from bot.telegram.budget import Budget, TelegramLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drive(budget: Budget, clock: FakeClock, sends: list[int], latency: float = 0.0) -> list:
    """Send to each chat in `sends` in order, as soon as the budget allows, answering each
    `latency` later; the (time, chat) of every start."""
    starts, in_flight = [], []
    for chat in sends:
        while True:
            for done in [f for f in in_flight if f[0] <= clock.now]:
                in_flight.remove(done)
                budget.finish(done[1])
            delay = budget.delay(chat)
            if delay <= 0:
                break
            next_answer = min((f[0] for f in in_flight), default=float("inf"))
            clock.now = min(clock.now + delay, max(next_answer, clock.now))
        budget.start(chat)
        starts.append((clock.now, chat))
        in_flight.append((clock.now + latency, chat))
    return starts


def most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window - 1e-9:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_many_private_chats_go_at_just_under_thirty_a_second():
    clock = FakeClock()
    starts = drive(Budget(clock=clock), clock, list(range(1, 601)))
    span = starts[-1][0] - starts[0][0]
    assert 28.5 <= (len(starts) - 1) / span <= 30.0
    assert most_in_window([t for t, _ in starts], 1.0) <= 30


def test_slow_answers_keep_any_second_of_arrivals_within_thirty():
    # Telegram counts a request somewhere between our send and its answer.
    clock = FakeClock()
    starts = drive(Budget(clock=clock), clock, list(range(1, 301)), latency=0.4)
    assert most_in_window([t for t, _ in starts], 1.0) <= 30
    assert most_in_window([t + 0.4 for t, _ in starts], 1.0) <= 30


def test_a_private_chat_gets_one_a_second_and_a_group_twenty_a_minute():
    clock = FakeClock()
    starts = drive(Budget(clock=clock), clock, [7] * 5 + [-100] * 25)
    private = [t for t, chat in starts if chat == 7]
    group = [t for t, chat in starts if chat == -100]
    assert min(b - a for a, b in zip(private, private[1:])) >= 1.0
    assert most_in_window(group, 60.0) <= 20 and len(group) == 25


def test_the_interval_runs_from_the_answer_when_it_comes_late():
    clock = FakeClock()
    budget = Budget(clock=clock)
    budget.start(7)
    clock.now += 0.8
    budget.finish(7)
    assert budget.chat_delay(7) == 1.0


def test_retry_after_pauses_every_chat():
    clock = FakeClock()
    budget = Budget(clock=clock)
    budget.retry_after(7, 5.0)
    assert budget.delay(7) == 5.0 and budget.delay(8) == 5.0
    clock.now += 5.0
    assert budget.delay(8) == 0.0 and budget.retry_afters == 1


def test_sends_in_flight_count_against_the_window():
    clock = FakeClock()
    budget = Budget(TelegramLimits(per_second=1e6), clock=clock)
    for chat in range(30):
        budget.start(chat)
    assert budget.overall_delay() > 0  # thirty unanswered: wait for an answer
    budget.finish(0)
    assert budget.overall_delay() == 1.0  # its answer leaves the window a second later


def test_scaled_limits_keep_their_proportions():
    fast = TelegramLimits().scaled(0.1)
    assert fast.chat_interval == 0.1 and round(fast.per_second) == 290
    clock = FakeClock()
    starts = drive(Budget(fast, clock), clock, [1, 2, 1, 2])
    assert Counter(c for _, c in starts) == {1: 2, 2: 2}
    assert starts[2][0] - starts[0][0] >= 0.1
