from prodlens.cli import console

console()
