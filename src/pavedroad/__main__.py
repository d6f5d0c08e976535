from pavedroad.cli import main

main()
