from baishitong.cli import main

main()
