"""The capstone's exercises (notebook 11) for the tests: each Solution's code, as the notebook
shows it, and the usual slips, each an edit of a solution with what the feedback must say.

tests/test_notebook_11.py holds the notebook's Solution blocks to these texts; the library's
tests (test_intermediates.py, test_depth_exercise.py) and the learner simulation submit them."""

SOLUTIONS = {
    "my_loss_backward": '''\
def my_loss_backward(f, g):
    """The gradients of the loss's lines, from log_p back to z."""
    N = len(f["labels"])
    rows = np.arange(N)
    dlog_p = np.zeros_like(f["log_p"])
    dlog_p[rows, f["labels"]] = -1 / N  # the loss averages one entry per row
    de_sum = -dlog_p.sum(axis=1, keepdims=True) / f["e_sum"]  # log's slope; e_sum feeds a row
    de = np.ones_like(f["e"]) * de_sum  # a sum's local partial is 1: copy back along the row
    dshifted = dlog_p + f["e"] * de  # shifted is used twice: by log_p and by exp
    dz_max = -dshifted.sum(axis=1, keepdims=True)  # z_max feeds every entry of its row
    dz = dshifted.copy()  # z is used twice: by shifted ...
    dz[rows, f["z"].argmax(axis=1)] += dz_max[:, 0]  # ... and by the max, at each row's winner
    return {"dlog_p": dlog_p, "de_sum": de_sum, "de": de, "dshifted": dshifted,
            "dz_max": dz_max, "dz": dz}
''',
    "my_second_layer_backward": '''\
def my_second_layer_backward(f, g):
    """The gradients of z = h @ W2 + b2: dh, dW2 and db2."""
    dh = g["dz"] @ f["W2"].T  # dA = dY Bᵀ (notebook 03)
    dW2 = f["h"].T @ g["dz"]  # dB = Aᵀ dY
    db2 = g["dz"].sum(axis=0)  # b2 is added to every row: its N uses add up
    return {"dh": dh, "dW2": dW2, "db2": db2}
''',
    "my_tanh_backward": '''\
def my_tanh_backward(f, g):
    """The gradients of h = tanh(n) and n = gain * a_hat + shift."""
    dn = g["dh"] * (1 - f["h"] ** 2)  # tanh's slope, written with its output h
    dgain = (dn * f["a_hat"]).sum(axis=0)  # gain multiplies a_hat in every row
    dshift = dn.sum(axis=0)  # shift is added to every row
    da_hat = dn * f["gain"]
    return {"dn": dn, "dgain": dgain, "dshift": dshift, "da_hat": da_hat}
''',
    "my_layer_norm_backward": '''\
def my_layer_norm_backward(f, g):
    """The gradients inside layer norm, from inv_std back to a."""
    H = f["a"].shape[1]
    dinv_std = (g["da_hat"] * f["c"]).sum(axis=1, keepdims=True)  # one inv_std per row
    dvar = dinv_std * -0.5 * (f["var"] + f["eps"]) ** -1.5  # the power rule, at var + ε
    dc = g["da_hat"] * f["inv_std"] + dvar * 2 * f["c"] / H  # c is used by a_hat and by var
    dmu = -dc.sum(axis=1, keepdims=True)  # mu is subtracted from every entry of its row
    da = dc + dmu / H  # a is used by c and by mu, the mean of its row
    return {"dinv_std": dinv_std, "dvar": dvar, "dc": dc, "dmu": dmu, "da": da}
''',
    "my_first_layer_backward": '''\
def my_first_layer_backward(f, g):
    """The gradients of a = X @ W1 + b1: dW1 and db1."""
    dW1 = f["X"].T @ g["da"]
    db1 = g["da"].sum(axis=0)
    return {"dW1": dW1, "db1": db1}
''',
    "my_deep_backward": '''\
def my_deep_backward(Ws, hs, activation, dh_last):
    """dL/dW and dL/db of every layer, as a dict: dW1 .. dWL and db1 .. dbL."""

    def slope(h):  # act'(a), written with the output h = act(a)
        if activation == "sigmoid":
            return h * (1 - h)
        if activation == "tanh":
            return 1 - h**2
        return (h > 0) * 1.0  # relu

    L = len(Ws)
    grads = {}
    delta = dh_last * slope(hs[L])  # δ at the top layer
    for layer in range(L, 0, -1):  # layers L, L - 1, ..., 1
        grads[f"dW{layer}"] = hs[layer - 1].T @ delta  # the layer's input is h_(layer-1)
        grads[f"db{layer}"] = delta.sum(axis=0)
        if layer > 1:  # the δ of the layer below: back through W, then its activation
            delta = (delta @ Ws[layer - 1].T) * slope(hs[layer - 1])
    return grads
''',
}

# (stage, function, old, new, what the first feedback must say)
SLIPS = [
    ("loss", "my_loss_backward", "= -1 / N", "= -1", "N = 5 times too big"),
    (
        "loss",
        "my_loss_backward",
        ".argmax(axis=1)] += dz_max[:, 0]",
        ".argmax(axis=1)] = dz_max[:, 0]",
        "`=` where `+=` belongs",
    ),
    ("loss", "my_loss_backward", "= -1 / N", "= 1 / N", "wrong sign"),
    (
        "loss",
        "my_loss_backward",
        'dlog_p[rows, f["labels"]]',
        'dlog_p[:, f["labels"]]',
        "picks whole columns",
    ),
    ("loss", "my_loss_backward", "-1 / N", '-1 / f["log_p"].size', "N·C"),
    ("loss", "my_loss_backward", '/ f["e_sum"]', "", "local partial of np.log is missing"),
    (
        "loss",
        "my_loss_backward",
        '-dlog_p.sum(axis=1, keepdims=True) / f["e_sum"]',
        '-dlog_p / f["e_sum"]',
        "copied it along axis 1",
    ),
    (
        "loss",
        "my_loss_backward",
        "-dlog_p.sum(axis=1, keepdims=True)",
        "-dlog_p.sum(axis=1)[:, None].ravel()",
        "shape",
    ),
    (
        "loss",
        "my_loss_backward",
        'de = np.ones_like(f["e"]) * de_sum',
        "de = de_sum",
        "de has one number per row",
    ),
    (
        "loss",
        "my_loss_backward",
        'de = np.ones_like(f["e"]) * de_sum',
        'de = f["e"] * de_sum',
        "multiplies by e",
    ),
    (
        "loss",
        "my_loss_backward",
        'dshifted = dlog_p + f["e"] * de',
        "dshifted = dlog_p",
        "only the path through log_p",
    ),
    (
        "loss",
        "my_loss_backward",
        'dshifted = dlog_p + f["e"] * de',
        'dshifted = f["e"] * de',
        "only the path through e",
    ),
    (
        "loss",
        "my_loss_backward",
        'dshifted = dlog_p + f["e"] * de',
        "dshifted = dlog_p + de",
        "lacks exp's local partial",
    ),
    (
        "loss",
        "my_loss_backward",
        'dshifted = dlog_p + f["e"] * de',
        'dshifted = dlog_p + f["shifted"] * de',
        "exp's input",
    ),
    (
        "loss",
        "my_loss_backward",
        "dz_max = -dshifted.sum(axis=1, keepdims=True)",
        "dz_max = -dshifted",
        "copied it along axis 1",
    ),
    (
        "loss",
        "my_loss_backward",
        "dz = dshifted.copy()",
        'dz = dshifted * f["e"]',
        "multiplies by e again",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'g["dz"] @ f["W2"].T',
        'g["dz"] @ f["W2"]',
        "transpose where the sizes must meet",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'f["h"].T @ g["dz"]',
        'g["dz"].T @ f["h"]',
        "transposed",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'f["h"].T @ g["dz"]',
        'f["n"].T @ g["dz"]',
        "tanh's input",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'g["dz"].sum(axis=0)',
        'g["dz"].mean(axis=0)',
        "averages over the N rows",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'g["dz"].sum(axis=0)',
        'g["dz"]',
        "copied it along axis 0",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'g["dz"].sum(axis=0)',
        'g["dz"].sum(axis=1)',
        "sums over axis 1",
    ),
    (
        "second_layer",
        "my_second_layer_backward",
        'f["h"].T @ g["dz"]',
        'f["h"].T @ g["dz"] / len(f["X"])',
        "divided by N",
    ),
    ("tanh", "my_tanh_backward", '(1 - f["h"] ** 2)', '(1 - f["n"] ** 2)', "tanh's input"),
    (
        "tanh",
        "my_tanh_backward",
        '(1 - f["h"] ** 2)',
        '(1 - np.tanh(f["h"]) ** 2)',
        "applies tanh to h",
    ),
    ("tanh", "my_tanh_backward", '(1 - f["h"] ** 2)', 'f["h"] * (1 - f["h"])', "sigmoid's slope"),
    (
        "tanh",
        "my_tanh_backward",
        'g["dh"] * (1 - f["h"] ** 2)',
        'g["dh"]',
        "multiplies by its local partial",
    ),
    (
        "tanh",
        "my_tanh_backward",
        '(dn * f["a_hat"]).sum(axis=0)',
        '(dn * f["a_hat"]).mean(axis=0)',
        "averages over the N rows",
    ),
    (
        "tanh",
        "my_tanh_backward",
        '(dn * f["a_hat"]).sum(axis=0)',
        'dn * f["a_hat"]',
        "copied it along axis 0",
    ),
    (
        "tanh",
        "my_tanh_backward",
        '(dn * f["a_hat"]).sum(axis=0)',
        '(dn * f["n"]).sum(axis=0)',
        "multiplies by n",
    ),
    (
        "tanh",
        "my_tanh_backward",
        "dshift = dn.sum(axis=0)",
        "dshift = dn.sum(axis=1)",
        "sums over axis 1",
    ),
    (
        "tanh",
        "my_tanh_backward",
        'da_hat = dn * f["gain"]',
        "da_hat = dn",
        "gain's factor is missing",
    ),
    (
        "tanh",
        "my_tanh_backward",
        'da_hat = dn * f["gain"]',
        'da_hat = dn * f["a_hat"]',
        "multiplies by a_hat",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '(g["da_hat"] * f["c"]).sum(axis=1, keepdims=True)',
        'g["da_hat"] * f["c"]',
        "copied it along axis 1",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '(g["da_hat"] * f["c"]).sum(axis=1, keepdims=True)',
        '(g["da_hat"] * f["c"]).sum(axis=0)',
        "down the batch",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '(g["da_hat"] * f["c"]).sum(axis=1, keepdims=True)',
        '(g["da_hat"] * f["c"]).sum(axis=1)',
        "keepdims=True",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '(f["var"] + f["eps"]) ** -1.5',
        'f["var"] ** -1.5',
        "ε is missing",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '-0.5 * (f["var"] + f["eps"]) ** -1.5',
        '0.5 * (f["var"] + f["eps"]) ** -1.5',
        "wrong sign",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        '(f["var"] + f["eps"]) ** -1.5',
        '(f["var"] + f["eps"]) ** -0.5',
        "lowers the exponent by one",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        'dvar * 2 * f["c"] / H',
        'dvar * 2 * f["c"] / (H - 1)',
        "ddof=1",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        'dvar * 2 * f["c"] / H',
        'dvar * 2 * f["c"]',
        "sum vs mean",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        'g["da_hat"] * f["inv_std"] + dvar * 2 * f["c"] / H',
        'g["da_hat"] * f["inv_std"]',
        "only the path through a_hat",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        'dvar * 2 * f["c"] / H',
        'dvar * f["c"] / H',
        "power rule's factor",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        "dmu = -dc.sum(axis=1, keepdims=True)",
        "dmu = dc.sum(axis=1, keepdims=True)",
        "wrong sign",
    ),
    (
        "layer_norm",
        "my_layer_norm_backward",
        "da = dc + dmu / H",
        "da = dc",
        "only the path through c",
    ),
    ("layer_norm", "my_layer_norm_backward", "da = dc + dmu / H", "da = dc + dmu", "sum vs mean"),
    (
        "layer_norm",
        "my_layer_norm_backward",
        "da = dc + dmu / H",
        "da = dc - dmu / H",
        "wrong sign",
    ),
    (
        "first_layer",
        "my_first_layer_backward",
        'f["X"].T @ g["da"]',
        'g["da"].T @ f["X"]',
        "transposed",
    ),
    (
        "first_layer",
        "my_first_layer_backward",
        'g["da"].sum(axis=0)',
        'g["da"].mean(axis=0)',
        "averages over the N rows",
    ),
    (
        "first_layer",
        "my_first_layer_backward",
        'g["da"].sum(axis=0)',
        'g["da"]',
        "copied it along axis 0",
    ),
    (
        "first_layer",
        "my_first_layer_backward",
        'f["X"].T @ g["da"]',
        'f["X"] @ g["da"]',
        "matrix product's inner sizes",
    ),
]

# (old, new, what the first feedback must say), edits of my_deep_backward's solution
DEEP_SLIPS = [
    ("delta = dh_last * slope(hs[L])", "delta = dh_last", "lacks the activation's slope"),
    (
        "(delta @ Ws[layer - 1].T) * slope(hs[layer - 1])",
        "(delta @ Ws[layer - 1].T)",
        "inside the loop δ is not multiplied",
    ),
    (
        "(delta @ Ws[layer - 1].T) * slope(hs[layer - 1])",
        "(delta @ Ws[layer - 1].T) * slope(hs[layer])",
        "slope of the wrong layer",
    ),
    ("(delta @ Ws[layer - 1].T)", "(delta @ Ws[layer - 1])", "transposed"),
    (
        'grads[f"dW{layer}"] = hs[layer - 1].T @ delta',
        'grads[f"dW{layer}"] = hs[layer].T @ delta',
        "the layer's output",
    ),
    ("delta.sum(axis=0)", "delta.mean(axis=0)", "averages over the batch"),
    (
        "return h * (1 - h)",
        "s = 1 / (1 + np.exp(-h))\n            return s * (1 - s)",
        "applies the activation to h again",
    ),
    ("return 1 - h**2", "return h * (1 - h)", "sigmoid's slope"),
    ("range(L, 0, -1)", "range(L, 1, -1)", "lacks dW1, db1"),
    ("delta = (delta @ Ws[layer - 1].T)", "delta = (delta @ Ws[layer].T)", "off-by-one"),
    ("delta = (delta @ Ws[layer - 1].T)", "delta = (delta @ Ws[layer - 2].T)", "layer below"),
    ("hs[layer - 1].T @ delta", "delta.T @ hs[layer - 1]", "transposed"),
    ("return (h > 0) * 1.0", "return (h >= 0) * 1.0", "never negative"),
]
