"""`pip install ./integrations/python` into a virtualenv that sees Debian's python3-redis: the package, its Django
app and its management command are installed, with redis as the one dependency. Offline, as this machine is:
--no-build-isolation builds with the setuptools at hand instead of fetching one, --no-index fetches nothing."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


class InstallTest(unittest.TestCase):
    def test_pip_install_into_a_virtualenv(self):
        with tempfile.TemporaryDirectory(prefix="ys-py-install-") as tmp:
            # A copy, so that the build's leftovers (build/, *.egg-info) stay out of the source tree.
            source = os.path.join(tmp, "python")
            shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__", "tests"))
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
            python = os.path.join(venv, "bin", "python")
            pip = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", source],
                                 capture_output=True, text=True)
            self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
            shutil.rmtree(source)  # what runs below comes from the virtualenv, not from the copy
            probe = subprocess.run(
                [python, "-c", "import importlib.metadata as m, yunity_sockets, "
                               "yunity_sockets.django.management.commands.yunity_sockets_sync as c; "
                               "print(yunity_sockets.__file__); print(m.requires('yunity-sockets')); "
                               "print(callable(yunity_sockets.notify), callable(yunity_sockets.online))"],
                capture_output=True, text=True, cwd=tmp)
            self.assertEqual(probe.returncode, 0, probe.stderr)
            location, requires, functions = probe.stdout.splitlines()
            self.assertTrue(location.startswith(os.path.join(venv, "lib")), location)
            # setuptools 66 writes the requirement as "redis (>=4.1)"; newer ones as "redis>=4.1".
            self.assertEqual(requires.replace(" ", "").replace("(", "").replace(")", ""), "['redis>=4.1']")
            self.assertEqual(functions, "True True")


if __name__ == "__main__":
    unittest.main()
