from faceforge.training.health import HealthMonitor


def test_discriminator_winning_is_reported_once_with_a_cooldown():
    mon = HealthMonitor()
    warnings = []
    for step in range(0, 300, 10):
        warnings += mon.update({"step": step, "d_real": 0.99, "d_fake": 0.01})
    assert [w.code for w in warnings] == ["d-winning"]
    assert "discriminator is winning" in warnings[0].text


def test_a_balanced_run_raises_nothing():
    mon = HealthMonitor()
    out = []
    for step in range(100):
        out += mon.update({"step": step, "d_real": 0.6 + 0.1 * (step % 2), "d_fake": 0.35, "swd": 100 / (1 + step),
                           "diversity": 0.2})
    assert out == []


def test_collapse_and_stalled_score():
    mon = HealthMonitor()
    codes = []
    for i, (swd, div) in enumerate([(50, 0.20), (40, 0.19), (41, 0.25), (40.5, 0.30), (40.2, 0.36), (40.1, 0.37),
                                    (40.3, 0.38)]):
        codes += [w.code for w in mon.update({"step": i * 100, "swd": swd, "diversity": div})]
    assert "collapse" in codes and "no-progress" in codes


def test_a_discriminator_stuck_at_chance_early_is_named_with_what_to_check():
    mon = HealthMonitor()
    codes = []
    for step in range(0, 400, 20):  # the reported failure: D(x) = D(G(z)) = 0.50 from step 40 on
        out = mon.update({"step": step, "d_real": 0.501, "d_fake": 0.499})
        codes += [(w.code, w.step) for w in out]
        if out:
            text = out[0].text
    assert [c for c, _ in codes] == ["at-chance"] and codes[0][1] <= 200
    assert "labels" in text and "learning rates" in text


def test_an_equilibrium_late_in_training_is_not_called_at_chance():
    mon = HealthMonitor()
    out = []
    for step in range(0, 400, 20):  # healthy start: D separates
        out += mon.update({"step": step, "d_real": 0.75, "d_fake": 0.25})
    for step in range(2000, 3000, 20):  # later, near equilibrium
        out += mon.update({"step": step, "d_real": 0.51, "d_fake": 0.49})
    assert out == []
