@echo off
rem Trade Relay installer for Windows: checks Node.js, installs and builds, offers to add a first user.
setlocal EnableExtensions
cd /d "%~dp0"

echo Trade Relay - install
echo.

set "NODE_VERSION="
for /f "delims=" %%v in ('node --version 2^>nul') do set "NODE_VERSION=%%v"
if not defined NODE_VERSION goto :no_node
rem "v20.11.1" -> "20"
for /f "tokens=1 delims=.v" %%m in ("%NODE_VERSION%") do set "NODE_MAJOR=%%m"
if %NODE_MAJOR% LSS 20 goto :old_node
echo Found Node.js %NODE_VERSION%.
echo.

echo Installing dependencies and building the relay...
rem npm is npm.cmd: without "call" this script would end when npm ends.
call npm install
if errorlevel 1 goto :npm_failed
if exist dist\cli\main.js goto :built
call npm run build
if errorlevel 1 goto :build_failed
:built
echo.
rem The data folder holds the database, the log and settings.env, shared by start_relay.bat, the
rem command line and the service. TradingView only delivers webhooks to ports 80 and 443: port 80 it is.
set "DATA=%~dp0data"
if defined RELAY_HOME set "DATA=%RELAY_HOME%"
if not exist "%DATA%" mkdir "%DATA%"
if exist "%DATA%\settings.env" goto :settings_done
> "%DATA%\settings.env" echo # Trade Relay settings: NAME=value lines, the names of README's configuration table.
>> "%DATA%\settings.env" echo # The environment wins over this file, and command-line flags over both.
>> "%DATA%\settings.env" echo RELAY_PORT=80
echo Wrote %DATA%\settings.env with RELAY_PORT=80 (TradingView only delivers webhooks to ports 80 and 443).
:settings_done
echo Trade Relay is installed. Data folder: %DATA%
echo.

choice /c YN /m "Add a first relay user now"
if errorlevel 2 goto :how_to_start
node bin\trade-relay.js add-user
if errorlevel 1 echo No user was added. Add one later with: node bin\trade-relay.js add-user

:how_to_start
echo.
echo To start the relay: double-click start_relay.bat. Its log prints the URL to paste into TradingView,
echo http://YOUR-SERVER-ADDRESS/webhook on port 80 (the address you reach this server at from the internet).
echo Allow port 80 in Windows Firewall once, from an administrator command prompt:
echo     netsh advfirewall firewall add rule name="Trade Relay" dir=in action=allow protocol=TCP localport=80
echo More users: node bin\trade-relay.js add-user     List them: node bin\trade-relay.js list-users
echo.
pause
exit /b 0

:no_node
echo Node.js was not found. Install Node.js 20 or newer (LTS) from https://nodejs.org/
echo then open a new command window and run install.bat again.
pause
exit /b 1

:old_node
echo Node.js %NODE_VERSION% is too old: Trade Relay needs Node.js 20 or newer.
echo Install the current LTS from https://nodejs.org/ and run install.bat again.
pause
exit /b 1

:npm_failed
echo.
echo npm install failed: see the messages above. If better-sqlite3 failed to build, use a Node.js LTS
echo version (it has prebuilt binaries) or install the Visual Studio Build Tools, then run install.bat again.
pause
exit /b 1

:build_failed
echo.
echo The build failed: see the messages above.
pause
exit /b 1
