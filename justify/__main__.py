from justify.cli import main

main()
