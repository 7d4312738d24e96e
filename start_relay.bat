@echo off
rem Starts Trade Relay. Its settings are read from the data folder's settings.env (data\settings.env,
rem or %RELAY_HOME%\settings.env): install.bat writes RELAY_PORT=80 there, the port TradingView delivers to.
rem The environment wins over that file, and flags over both, e.g.  start_relay.bat --port 8080
setlocal EnableExtensions
cd /d "%~dp0"

if not exist dist\cli\main.js goto :not_built

set "DATA=%~dp0data"
if defined RELAY_HOME set "DATA=%RELAY_HOME%"
echo Trade Relay: data folder %DATA% (database, log and settings.env). Stop with Ctrl+C.
echo The start-up log below prints the TradingView webhook URL, or what to change to get one.
echo.

node bin\trade-relay.js start %*
set "RC=%ERRORLEVEL%"
rem Keep the window open after a failure, so a double-click shows why.
if not "%RC%"=="0" pause
exit /b %RC%

:not_built
echo Trade Relay is not built yet: run install.bat first.
pause
exit /b 1
