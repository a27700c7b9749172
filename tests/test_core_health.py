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
