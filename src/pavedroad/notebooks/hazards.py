"""What a notebook's code does that only works on its author's machine, or only once: paths on
their disk (NB003), packages installed from a cell (NB005), and randomness with no seed (NB006).

Everything is read from the cells' ASTs and their IPython lines; nothing is run.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from pavedroad.notebooks.reader import Cell, IPythonLine, Notebook

# -- NB003: machine-specific paths -----------------------------------------------------------

MACHINE_PATH = re.compile(
    r"""(?:file://)?(?:
        /(?:Users|home)/[^/\s]+          # a person's home folder (macOS, Linux)
      | /root(?:/|$)
      | /(?:mnt|media|Volumes)/[^/\s]+   # a mounted drive
      | /content/drive(?:/|$)            # Google Drive, mounted in Colab
      | [A-Za-z]:[\\/]                   # a Windows drive
      | \\\\[^\\\s]+\\                   # a Windows share
      | ~[A-Za-z0-9_.-]*[\\/]            # a home folder by ~
    )""",
    re.VERBOSE,
)
_SHELL_WORD = re.compile(r"""[\s'"=,()]+""")


@dataclass(frozen=True)
class Found:
    """Something found in a cell: where, and the text that shows what it is."""

    cell: int
    line: int
    text: str


def machine_paths(cell: Cell) -> Iterator[Found]:
    """String literals, and words of shell lines and magics (`%cd ~/work`), that are paths on
    one machine."""
    for line, value in cell.nodes.strings:
        if MACHINE_PATH.match(value.strip()):
            yield Found(cell.index, line, value.strip())
    for ipython in cell.code.ipython:
        for word in _SHELL_WORD.split(ipython.text.lstrip("!%")):
            if MACHINE_PATH.match(word):
                yield Found(cell.index, ipython.line, word)


# -- NB005: installs from a cell -------------------------------------------------------------

_INSTALL = re.compile(
    r"(?:^|[\s;&|/(])(?P<tool>pip3?|conda|mamba|micromamba|apt-get|apt|yum|dnf|apk|brew)"
    r"(?:\.exe)?\s+(?:-\S+\s+)*(?:install|add)\b(?P<args>[^;&|]*)"
)
# options that take a value: the value is no package
_VALUED = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "-n",
     "--name", "-p", "--prefix", "-c", "--channel", "--python", "--root"}
)  # fmt: skip
_RECORDED = frozenset({"-r", "--requirement", "--constraint"})  # from a file in the repository
_SHELL_MAGICS = frozenset({"bash", "sh", "script", "system", "sx", "cmd", "powershell"})
_PROCESS_CALLS = frozenset(
    {"system", "run", "call", "check_call", "check_output", "Popen", "getoutput", "popen"}
)


@dataclass(frozen=True)
class Install:
    cell: int
    line: int
    command: str  # as written, stripped
    packages: tuple[str, ...]


def installs(cell: Cell) -> Iterator[Install]:
    """Package installs run from the cell: shell lines, `%pip`, `%%bash` cells, and
    `os.system` / `subprocess` calls with a literal command."""
    for line in cell.code.ipython:
        command = _shell_command(line)
        if command is not None:
            yield from _installs_in(cell.index, line.line, line.text, command)
    for node in cell.nodes.calls:
        if _called(node.func) in _PROCESS_CALLS:
            command = " ".join(_literal_words(node.args[:1]))
            yield from _installs_in(cell.index, node.lineno, command, command)


def _shell_command(line: IPythonLine) -> str | None:
    if line.cell_magic is not None:
        return line.text if line.cell_magic in _SHELL_MAGICS else None
    text = line.text
    assigned = re.match(r"[\w\s,.]+=\s*", text)  # `out = !pip install x`
    if assigned:
        text = text[assigned.end() :]
    if text.startswith("!"):
        return text.lstrip("!")
    if text.startswith("%") and not text.startswith("%%"):
        return text.lstrip("%")  # %pip, %conda, %sx, %system
    return None


def _installs_in(cell: int, line: int, shown: str, command: str) -> Iterator[Install]:
    for match in _INSTALL.finditer(command):
        packages = _packages(match.group("args"))
        if packages:
            yield Install(cell, line, shown.strip(), packages)


def _packages(arguments: str) -> tuple[str, ...]:
    """The packages an install names; none when it installs from a requirements file or the
    project itself (`-r requirements.txt`, `-e .`), which are recorded."""
    try:
        words = shlex.split(arguments)
    except ValueError:  # an unclosed quote
        words = arguments.split()
    packages: list[str] = []
    skip_next = False
    for index, word in enumerate(words):
        if skip_next:
            skip_next = False
        elif word in _VALUED or word in _RECORDED:
            skip_next = True
        elif word in ("-e", "--editable"):
            following = words[index + 1] if index + 1 < len(words) else "."
            skip_next = following in (".", "./")
        elif not word.startswith("-") and word not in (".", "./"):
            packages.append(word)
    return tuple(packages)


def _called(function: ast.expr) -> str | None:
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else None


def _literal_words(arguments: list[ast.expr]) -> Iterator[str]:
    """The words of a command given as a string or a list (`[sys.executable, "-m", "pip"]`)."""
    for argument in arguments:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield argument.value
        elif isinstance(argument, ast.List | ast.Tuple):
            for element in argument.elts:
                literal = isinstance(element, ast.Constant) and isinstance(element.value, str)
                yield str(getattr(element, "value", "")) if literal else "python"


# -- NB006: randomness without a seed --------------------------------------------------------

RANDOM_FUNCTIONS = frozenset(
    {"random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
     "gauss", "normalvariate", "triangular", "betavariate", "expovariate", "getrandbits",
     "lognormvariate", "vonmisesvariate", "gammavariate", "paretovariate", "weibullvariate",
     "binomialvariate", "randbytes"}
)  # fmt: skip
NUMPY_NOT_RANDOM = frozenset(
    {"seed", "default_rng", "RandomState", "Generator", "SeedSequence", "PCG64", "PCG64DXSM",
     "MT19937", "Philox", "SFC64", "BitGenerator", "get_state", "set_state"}
)  # fmt: skip
# scikit-learn callables whose `random_state=None` draws from numpy's global generator
SKLEARN_RANDOM = frozenset(
    {"train_test_split", "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit",
     "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
     "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
     "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
     "DecisionTreeClassifier", "DecisionTreeRegressor", "KMeans", "MiniBatchKMeans", "TSNE",
     "MLPClassifier", "MLPRegressor", "SGDClassifier", "SGDRegressor", "RandomizedSearchCV",
     "IsolationForest", "BaggingClassifier", "BaggingRegressor", "AdaBoostClassifier",
     "AdaBoostRegressor", "make_classification", "make_regression", "make_blobs",
     "make_moons", "make_circles", "permutation_importance", "resample", "TruncatedSVD",
     "GaussianMixture", "BayesianGaussianMixture", "NMF", "LatentDirichletAllocation",
     "RandomTreesEmbedding", "SpectralClustering"}
)  # fmt: skip
SKLEARN_IF_SHUFFLED = frozenset({"KFold", "StratifiedKFold", "RepeatedKFold"})
SKLEARN_RANDOM_SOLVERS = frozenset({"sag", "saga", "liblinear"})  # LogisticRegression's
TORCH_RANDOM = frozenset(
    {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
     "normal", "bernoulli", "multinomial", "poisson"}
)  # fmt: skip
TORCH_LAYERS = frozenset(
    {"Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "Embedding", "LSTM", "GRU", "RNN",
     "Dropout", "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"}
)  # fmt: skip
# seeding functions -> the generators they seed
EVERY_GENERATOR = frozenset({"random", "numpy", "torch", "tensorflow"})
SEEDS: dict[str, frozenset[str]] = {
    "random.seed": frozenset({"random"}),
    "numpy.random.seed": frozenset({"numpy"}),
    "torch.manual_seed": frozenset({"torch"}),
    "torch.random.manual_seed": frozenset({"torch"}),
    "torch.cuda.manual_seed": frozenset({"torch"}),
    "torch.cuda.manual_seed_all": frozenset({"torch"}),
    "tensorflow.random.set_seed": frozenset({"tensorflow"}),
    "tensorflow.keras.utils.set_random_seed": EVERY_GENERATOR,
    "keras.utils.set_random_seed": EVERY_GENERATOR,
    "pytorch_lightning.seed_everything": EVERY_GENERATOR,
    "lightning.seed_everything": EVERY_GENERATOR,
    "lightning.pytorch.seed_everything": EVERY_GENERATOR,
    "lightning.fabric.seed_everything": EVERY_GENERATOR,
    "transformers.set_seed": EVERY_GENERATOR,
}
_TF_WHY = "draws from TensorFlow's global generator"
# the usual aliases, for a notebook that uses one without importing it (NB002 reports that)
CONVENTIONAL = {"np": "numpy", "tf": "tensorflow", "pd": "pandas"}
HOW_TO_SEED = {
    "random": "call `random.seed(SEED)` in the first code cell",
    "numpy": "call `np.random.seed(SEED)` in the first code cell, or pass `random_state=SEED`",
    "torch": "call `torch.manual_seed(SEED)` in the first code cell",
    "tensorflow": "call `tf.random.set_seed(SEED)` in the first code cell",
    "unseeded": "pass a seed: `np.random.default_rng(SEED)`",
}


@dataclass(frozen=True)
class Unseeded:
    cell: int
    line: int
    api: str  # what is called, by its full name: numpy.random.rand, sklearn.RandomForest...
    generator: str  # random, numpy, torch, tensorflow; "unseeded" for its own unseeded one
    detail: str  # why it is random here


def unseeded_randomness(notebook: Notebook) -> list[Unseeded]:
    """Each random call, first use per API, that runs with no seed set above it."""
    aliases: dict[str, str] = {}
    seeded: set[str] = set()
    found: dict[str, Unseeded] = {}
    for cell in notebook.code_cells:
        for node in cell.nodes.imports_and_calls:
            if isinstance(node, ast.Import | ast.ImportFrom):
                aliases.update(_aliases(node))
            elif isinstance(node, ast.Call):
                full = _full_name(node.func, aliases)
                if full in SEEDS and _seeds(node):
                    seeded |= SEEDS[full]
                    continue
                api = full or "sample"
                random = _random_call(node, full)
                if random is not None and random[0] not in seeded and api not in found:
                    generator, why = random
                    found[api] = Unseeded(cell.index, node.lineno, api, generator, why)
    return sorted(found.values(), key=lambda u: (u.cell, u.line))


def _aliases(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    if isinstance(node, ast.Import):  # `import a.b` binds a; `import a.b as c` binds c to a.b
        return {
            alias.asname or alias.name.partition(".")[0]: (
                alias.name if alias.asname else alias.name.partition(".")[0]
            )
            for alias in node.names
        }
    if node.level or not node.module:
        return {}
    return {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for alias in node.names
        if alias.name != "*"
    }


def _full_name(function: ast.expr, aliases: dict[str, str]) -> str | None:
    """`np.random.rand` -> numpy.random.rand, through the notebook's imports."""
    parts: list[str] = []
    while isinstance(function, ast.Attribute):
        parts.append(function.attr)
        function = function.value
    if not isinstance(function, ast.Name):
        return None
    base = aliases.get(function.id, CONVENTIONAL.get(function.id, function.id))
    return ".".join([base, *reversed(parts)])


def _seeds(call: ast.Call) -> bool:
    """A seed given: `seed()` and `seed(None)` seed from the clock, which is no seed."""
    values = [*call.args, *(k.value for k in call.keywords)]
    return bool(values) and not (isinstance(values[0], ast.Constant) and values[0].value is None)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _unset(call: ast.Call, name: str) -> bool:
    """The keyword is absent or None, and no `**options` may carry it."""
    if any(k.arg is None for k in call.keywords):
        return False
    value = _keyword(call, name)
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _random_call(call: ast.Call, full: str | None) -> tuple[str, str] | None:
    """(the generator it draws from, why) for a call that draws random numbers; else None."""
    if full is None:
        return _method_sample(call)
    module, _, name = full.rpartition(".")
    if module == "random" and name in RANDOM_FUNCTIONS:
        return "random", "draws from the random module"
    if module == "numpy.random":
        if name not in NUMPY_NOT_RANDOM:
            return "numpy", "draws from numpy's global generator"
        if name in ("default_rng", "RandomState") and not _seeds(call):
            return "unseeded", "creates a generator without a seed"
        return None
    if full.startswith("sklearn."):
        return _sklearn(call, name)
    if full.startswith("torch."):
        return _torch(call, full, name)
    if full.startswith("tensorflow.random.") and name not in ("set_seed", "Generator"):
        return None if name.startswith("stateless") else ("tensorflow", _TF_WHY)
    return _method_sample(call) if name == "sample" and module != "random" else None


def _sklearn(call: ast.Call, name: str) -> tuple[str, str] | None:
    unset = _unset(call, "random_state")
    why = "leaves `random_state` unset"
    if name in SKLEARN_RANDOM and unset:
        return "numpy", why
    if name in SKLEARN_IF_SHUFFLED and unset:
        shuffle = _keyword(call, "shuffle")
        if isinstance(shuffle, ast.Constant) and shuffle.value is True:
            return "numpy", f"shuffles and {why}"
    if name == "LogisticRegression" and unset:
        solver = _keyword(call, "solver")
        if isinstance(solver, ast.Constant) and solver.value in SKLEARN_RANDOM_SOLVERS:
            return "numpy", f"uses the {solver.value} solver and {why}"
    return None


def _torch(call: ast.Call, full: str, name: str) -> tuple[str, str] | None:
    if full == f"torch.{name}" and name in TORCH_RANDOM:
        return "torch", "draws from torch's global generator"
    if full.startswith("torch.nn.init.") or full == "torch.utils.data.random_split":
        return "torch", "draws from torch's global generator"
    if full == f"torch.nn.{name}" and name in TORCH_LAYERS:
        return "torch", "initialises its weights at random"
    if name == "DataLoader":
        shuffle = _keyword(call, "shuffle")
        if isinstance(shuffle, ast.Constant) and shuffle.value is True:
            return "torch", "shuffles from torch's global generator"
    return None


def _method_sample(call: ast.Call) -> tuple[str, str] | None:
    """`df.sample(...)` with no `random_state`: pandas draws from numpy's global generator."""
    function = call.func
    sample = isinstance(function, ast.Attribute) and function.attr == "sample"
    return (
        ("numpy", "samples rows with no `random_state`")
        if sample and _unset(call, "random_state")
        else None
    )
