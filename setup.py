# Only here for cffi; everything else about the package is in pyproject.toml.
#
# `cffi_modules` turns each build_cffi/*_build.py into a pure-Python module
# (boardcc.drivers.dahdi._dahdi_cffi, boardcc.drivers.donjin._donjin_cffi) while the package is
# built. cffi writes them into the build directory, which is what a wheel needs but not an
# editable install (`pip install -e`), where the build directory is thrown away and the package
# is imported from the source tree. So in editable mode build_py also writes them next to the
# sources, into drivers/dahdi/ and drivers/donjin/ (ignored by git, written again whenever the
# editable install is redone).
import os
import runpy

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = [  # (build script, package, module)
    (os.path.join("build_cffi", "dahdi_build.py"), "boardcc.drivers.dahdi", "_dahdi_cffi"),
    (os.path.join("build_cffi", "donjin_build.py"), "boardcc.drivers.donjin", "_donjin_cffi"),
]


class BuildPyWithCffiInPlace(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            for builder, package, module in MODULES:
                ffibuilder = runpy.run_path(os.path.join(HERE, builder))["ffibuilder"]
                target = os.path.join(self.get_package_dir(package), module + ".py")
                ffibuilder.emit_python_code(os.path.join(HERE, target))


setup(
    cmdclass={"build_py": BuildPyWithCffiInPlace},
    cffi_modules=[f"{builder}:ffibuilder" for builder, _, _ in MODULES],
)
